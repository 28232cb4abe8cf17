"""The Power BI model of pimlens as data: ``model.yml`` (tables and measures) joined with the dbt manifest (the star
schema's contracted columns, their descriptions and the relationships its tests declare).

Each measure is written once, as a kind (count, distinct_count, sum, percentile, ratio, difference) with filters;
``dax`` and ``sql`` render it as the DAX measure Power BI evaluates and as its DuckDB SQL twin, which computes the
same number over the same tables with no filter context (a card on an unfiltered page). Tests hold each twin to
the mart it restates on the demo.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path(__file__).with_name("model.yml")
KINDS = ("count", "distinct_count", "sum", "percentile", "ratio", "difference")
_REF = re.compile(r"""ref\(\s*['"](\w+)['"]""")


class SpecError(ValueError):
    """model.yml names something the model does not have; the message names the entry to fix."""


@dataclass(frozen=True)
class Column:
    name: str  # the dbt column
    display: str  # its name in Power BI
    data_type: str  # the contract's DuckDB type
    description: str
    is_key: bool


@dataclass(frozen=True)
class Table:
    model: str  # the dbt model, unversioned (dim_tenant)
    relation: str  # the versioned relation and Parquet file stem (dim_tenant_v1)
    name: str  # its name in Power BI
    description: str
    columns: tuple[Column, ...]
    date_column: str | None = None
    sort_by: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise SpecError(f"{self.model} has no column {name}: model.yml names it, the dbt contract does not")


@dataclass(frozen=True)
class Relationship:
    from_model: str
    from_column: str
    to_model: str
    to_column: str


@dataclass(frozen=True)
class Measure:
    name: str
    folder: str
    format: str
    description: str
    kind: str
    argument: Any
    where: dict[str, Any]
    equals: dict[str, str]


@dataclass(frozen=True)
class SemanticModel:
    name: str
    tables: tuple[Table, ...]
    relationships: tuple[Relationship, ...]
    measures: tuple[Measure, ...]

    def table(self, model: str) -> Table:
        for table in self.tables:
            if table.model == model:
                return table
        raise SpecError(f"model.yml names {model}, which is not one of its tables")

    def measure(self, name: str) -> Measure:
        for measure in self.measures:
            if measure.name == name:
                return measure
        raise SpecError(f"model.yml refers to the measure {name!r}, which it does not define")

    def home_table(self, measure: Measure) -> Table:
        """The table a measure is listed under in Power BI: the one its rows come from."""
        if measure.kind in ("ratio", "difference"):
            return self.home_table(self.measure(measure.argument[0]))
        if measure.kind == "count":
            return self.table(measure.argument)
        of = measure.argument["of"] if measure.kind == "percentile" else measure.argument
        return self.table(_split(measure, of)[0])

    def relationship(self, from_model: str, to_model: str) -> Relationship:
        for relationship in self.relationships:
            if (relationship.from_model, relationship.to_model) == (from_model, to_model):
                return relationship
        raise SpecError(f"{from_model} has no relationship to {to_model} (a dbt relationships test declares one)")

    # --- DAX ---------------------------------------------------------------------------------------------------

    def dax(self, measure: Measure) -> str:
        if measure.kind == "ratio":
            numerator, denominator = measure.argument
            return f"DIVIDE({dax_measure(numerator)}, {dax_measure(denominator)})"
        if measure.kind == "difference":
            minuend, subtrahend = measure.argument
            return f"{dax_measure(minuend)} - {dax_measure(subtrahend)}"
        filters = [self._dax_filter(measure, key, value) for key, value in measure.where.items()]
        if measure.kind == "count":
            aggregate = f"COUNTROWS({dax_table(self.table(measure.argument).name)})"
        else:
            of = measure.argument["of"] if measure.kind == "percentile" else measure.argument
            model, column = _split(measure, of)
            reference = self._dax_column(model, column)
            if measure.kind == "distinct_count":
                aggregate = f"DISTINCTCOUNT({reference})"
                filters.append(f"NOT(ISBLANK({reference}))")
            elif measure.kind == "sum":
                aggregate = f"SUM({reference})"
            else:
                p = float(measure.argument["p"])
                aggregate = f"MEDIAN({reference})" if p == 0.5 else f"PERCENTILE.INC({reference}, {p!r})"
                filters.append(f"NOT(ISBLANK({reference}))")
        return f"CALCULATE({aggregate}, {', '.join(filters)})" if filters else aggregate

    def _dax_column(self, model: str, column: str) -> str:
        table = self.table(model)
        return f"{dax_table(table.name)}[{_dax_escape_bracket(table.column(column).display)}]"

    def _dax_filter(self, measure: Measure, key: str, value: Any) -> str:
        model, column = key.split(".", 1) if "." in key else (self.home_table(measure).model, key)
        reference = self._dax_column(model, column)
        if isinstance(value, list):
            return f"{reference} IN {{{', '.join(dax_literal(item) for item in value)}}}"
        return f"{reference} = {dax_literal(value)}"

    # --- SQL twin ----------------------------------------------------------------------------------------------

    def sql(self, measure: Measure) -> str:
        """A scalar DuckDB expression over relations named as the dbt models (``fct_star_access``)."""
        if measure.kind == "ratio":
            numerator, denominator = (self.sql(self.measure(name)) for name in measure.argument)
            return f"{numerator} / nullif({denominator}, 0)"
        if measure.kind == "difference":
            minuend, subtrahend = (self.sql(self.measure(name)) for name in measure.argument)
            return f"{minuend} - {subtrahend}"
        home = self.home_table(measure)
        conditions = [self._sql_filter(home, key, value) for key, value in measure.where.items()]
        if measure.kind == "count":
            aggregate = "count(*)"
        else:
            of = measure.argument["of"] if measure.kind == "percentile" else measure.argument
            column = sql_identifier(_split(measure, of)[1])
            if measure.kind == "distinct_count":
                aggregate = f"count(distinct {column})"
            elif measure.kind == "sum":
                aggregate = f"sum({column})"
            else:
                aggregate = f"quantile_cont({column}, {float(measure.argument['p'])!r})"
                conditions.append(f"{column} is not null")
        where = f" where {' and '.join(conditions)}" if conditions else ""
        return f"(select {aggregate} from {home.model}{where})"

    def _sql_filter(self, home: Table, key: str, value: Any) -> str:
        if "." in key:
            model, column = key.split(".", 1)
            self.table(model).column(column)
            link = self.relationship(home.model, model)
            inner = self._sql_condition(column, value)
            return (
                f"{sql_identifier(link.from_column)} in "
                f"(select {sql_identifier(link.to_column)} from {model} where {inner})"
            )
        home.column(key)
        return self._sql_condition(key, value)

    @staticmethod
    def _sql_condition(column: str, value: Any) -> str:
        if isinstance(value, list):
            return f"{sql_identifier(column)} in ({', '.join(sql_literal(item) for item in value)})"
        return f"{sql_identifier(column)} = {sql_literal(value)}"


def _split(measure: Measure, reference: Any) -> tuple[str, str]:
    if not isinstance(reference, str) or "." not in reference:
        raise SpecError(f"measure {measure.name!r}: expected <model>.<column>, got {reference!r}")
    model, column = reference.split(".", 1)
    return model, column


def dax_table(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _dax_escape_bracket(name: str) -> str:
    return name.replace("]", "]]")


def dax_measure(name: str) -> str:
    return f"[{_dax_escape_bracket(name)}]"


def dax_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE()" if value else "FALSE()"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def display_name(column: str) -> str:
    """``tenant_name`` -> ``Tenant Name``."""
    return " ".join(word.capitalize() for word in column.split("_"))


def load_model(manifest_path: Path, spec_path: Path = SPEC_FILE) -> SemanticModel:
    """The semantic model `spec_path` describes, with its tables' columns from the dbt manifest at `manifest_path`."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("version") == node.get("latest_version")
    }
    tables = tuple(_table(entry, nodes) for entry in spec["tables"])
    names = {table.model for table in tables}
    measures = tuple(_measure(entry) for entry in spec["measures"])
    model = SemanticModel(spec["name"], tables, _relationships(manifest, nodes, names), measures)
    _check(model)
    return model


def _table(entry: dict[str, Any], nodes: dict[str, Any]) -> Table:
    node = nodes.get(entry["model"])
    if node is None:
        raise SpecError(f"model.yml names the dbt model {entry['model']}, which the manifest lacks: rebuild it")
    if not node["config"].get("contract", {}).get("enforced"):
        raise SpecError(f"{entry['model']} has no enforced dbt contract: Power BI reads contracted marts only")
    renamed = entry.get("columns", {})
    columns = tuple(
        Column(
            name=name,
            display=renamed.get(name, display_name(name)),
            data_type=column["data_type"].lower(),
            description=" ".join(column.get("description", "").split()),
            is_key=name.endswith("_key"),
        )
        for name, column in node["columns"].items()
    )
    table = Table(
        model=entry["model"],
        relation=node["alias"],
        name=entry["name"],
        description=" ".join(node.get("description", "").split()),
        columns=columns,
        date_column=entry.get("date_column"),
        sort_by=entry.get("sort_by", {}),
    )
    for column in [table.date_column, *table.sort_by, *table.sort_by.values(), *renamed]:
        if column is not None:
            table.column(column)
    return table


def _measure(entry: dict[str, Any]) -> Measure:
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        raise SpecError(f"measure {entry.get('name')!r}: give exactly one of {', '.join(KINDS)}")
    for key in ("name", "folder", "format", "description", "equals"):
        if key not in entry:
            raise SpecError(f"measure {entry.get('name')!r} lacks {key}")
    return Measure(
        name=entry["name"],
        folder=entry["folder"],
        format=entry["format"],
        description=" ".join(entry["description"].split()),
        kind=kinds[0],
        argument=entry[kinds[0]],
        where=entry.get("where", {}),
        equals=entry["equals"],
    )


def _relationships(manifest: dict[str, Any], nodes: dict[str, Any], names: set[str]) -> tuple[Relationship, ...]:
    """Many-to-one relationships from each fact to the dimensions its dbt relationships tests name. Dimensions are
    not related to each other: a second path from the tenant to a fact would make the model ambiguous."""
    by_id = {node["unique_id"]: name for name, node in nodes.items()}
    found = set()
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or metadata.get("name") != "relationships":
            continue
        from_model = by_id.get(node.get("attached_node"))
        target = _REF.search(metadata["kwargs"].get("to", ""))
        if from_model not in names or not from_model.startswith("fct_") or target is None:
            continue
        if target.group(1) in names:
            found.add(Relationship(from_model, node["column_name"], target.group(1), metadata["kwargs"]["field"]))
    return tuple(sorted(found, key=lambda r: (r.from_model, r.from_column)))


def _check(model: SemanticModel) -> None:
    """Every name a measure uses resolves: tables, columns, dimensions, other measures; names are unique."""
    names = [measure.name for measure in model.measures]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise SpecError(f"model.yml defines the measures {sorted(duplicates)} twice")
    clashes = set(names) & {table.name for table in model.tables}
    if clashes:
        raise SpecError(f"model.yml: measures {sorted(clashes)} are named like a table; rename them")
    for measure in model.measures:
        _check_no_cycle(model, measure, ())
        if not {"headline", "sql"} & set(measure.equals):
            raise SpecError(f"measure {measure.name!r}: equals needs a headline metric or a sql query")
        model.dax(measure)
        model.sql(measure)


def _check_no_cycle(model: SemanticModel, measure: Measure, path: tuple[str, ...]) -> None:
    if measure.name in path:
        raise SpecError(f"measure {measure.name!r} refers to itself: {' -> '.join([*path, measure.name])}")
    if measure.kind in ("ratio", "difference"):
        if not isinstance(measure.argument, list) or len(measure.argument) != 2:
            raise SpecError(f"measure {measure.name!r}: {measure.kind} takes a list of two measures")
        for name in measure.argument:
            _check_no_cycle(model, model.measure(name), (*path, measure.name))
