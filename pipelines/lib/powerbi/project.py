"""Writes the Power BI project (PBIP) that opens the Parquet export: a TMDL semantic model and a PBIR report.

Layout, in the export folder beside the Parquet files (docs/powerbi.md)::

    pimlens.pbip                         the file an analyst opens in Power BI Desktop
    pimlens.SemanticModel/               definition.pbism, .platform, definition/*.tmdl, tables/, roles/
    pimlens.Report/                      definition.pbir, .platform, definition/ (one page per programme phase)
    measures.sql                         every measure's DuckDB twin, runnable in that folder

Every table's one import partition reads its Parquet file through the ``ExportFolder`` parameter. The output is
deterministic (lineage tags are uuid5 of the object's path), so an unchanged model regenerates byte for byte.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from pipelines.lib.powerbi.spec import Column, SemanticModel, Table, dax_literal, dax_table, load_model

SCHEMA_ROOT = "https://developer.microsoft.com/json-schemas/fabric"
SCHEMAS = {
    "pbip": f"{SCHEMA_ROOT}/pbip/pbipProperties/1.0.0/schema.json",
    "pbism": f"{SCHEMA_ROOT}/item/semanticModel/definitionProperties/1.0.0/schema.json",
    "pbir": f"{SCHEMA_ROOT}/item/report/definitionProperties/2.0.0/schema.json",
    "platform": f"{SCHEMA_ROOT}/gitIntegration/platformProperties/2.0.0/schema.json",
    "version": f"{SCHEMA_ROOT}/item/report/definition/versionMetadata/1.0.0/schema.json",
    "report": f"{SCHEMA_ROOT}/item/report/definition/report/3.3.0/schema.json",
    "pages": f"{SCHEMA_ROOT}/item/report/definition/pagesMetadata/1.1.0/schema.json",
    "page": f"{SCHEMA_ROOT}/item/report/definition/page/2.1.0/schema.json",
    "visual": f"{SCHEMA_ROOT}/item/report/definition/visualContainer/2.9.0/schema.json",
}
_NAMESPACE = uuid.UUID("4f1d7a52-1c55-4c0e-9a43-6d1f1b3f0c11")
PARAMETER = "ExportFolder"

# TMDL data types and Power Query types of the contracts' DuckDB types (docs/powerbi.md, "Types").
_TYPES = {
    "bigint": ("int64", "Int64.Type"),
    "integer": ("int64", "Int64.Type"),
    "double": ("double", "type number"),
    "varchar": ("string", "type text"),
    "boolean": ("boolean", "type logical"),
    "date": ("dateTime", "type date"),
}

# One report page per programme phase, each with cards of the measures that phase is judged by.
PAGES = (
    (
        "discovery",
        "Discovery",
        [
            "Standing Privileged Access",
            "Eligible Privileged Access",
            "Privileged Principals",
            "Global Administrators",
            "Privileged Access Outside PIM",
            "Privileged Guests",
            "Azure Privileged Principals",
            "Azure Standing Privileged Access",
        ],
    ),
    (
        "design_build",
        "Design/Build",
        [
            "Tier 0 Roles Without Approval",
            "Compliance Failures",
            "Compliance Rate",
            "Privileged Roles Without Review",
            "Azure Compliance Failures",
            "PIM for Groups Compliance Failures",
        ],
    ),
    (
        "rollout",
        "Rollout",
        [
            "Standing Access Reduction",
            "Activation Requests",
            "Approval Rate",
            "Approval Latency P50 (s)",
            "Approval Latency P90 (s)",
            "Reactivation Rate",
        ],
    ),
    (
        "monitor",
        "Monitor",
        ["Alerts Raised", "High Severity Alerts", "After-Hours Share", "Denial Rate", "Review Completion"],
    ),
)


class UnsupportedColumnType(ValueError):
    """A contracted column whose type has no Power BI mapping here; the contract must use one that has."""


def lineage_tag(*path: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(path)))


def tmdl_name(name: str) -> str:
    """A TMDL object name, single-quoted when it holds anything but letters, digits and underscores."""
    if name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "'" + name.replace("'", "''") + "'"


def _types(table: Table, column: Column) -> tuple[str, str]:
    if column.data_type not in _TYPES:
        raise UnsupportedColumnType(
            f"{table.model}.{column.name} has type {column.data_type}; the Power BI model maps {sorted(_TYPES)}"
        )
    return _TYPES[column.data_type]


def _description(text: str, indent: str) -> list[str]:
    return [f"{indent}/// {line}" for line in text.splitlines() if line.strip()] if text else []


def partition_expression(table: Table) -> str:
    """The M that loads `table`: its Parquet file in the folder the ExportFolder parameter names, typed."""
    types = ", ".join(f'{{"{column.name}", {_types(table, column)[1]}}}' for column in table.columns)
    return "\n".join(
        [
            "let",
            f'    Source = Parquet.Document(File.Contents({PARAMETER} & "{table.relation}.parquet")),',
            f"    Typed = Table.TransformColumnTypes(Source, {{{types}}})",
            "in",
            "    Typed",
        ]
    )


def table_tmdl(model: SemanticModel, table: Table) -> str:
    lines = [*_description(table.description, ""), f"table {tmdl_name(table.name)}"]
    lines.append(f"\tlineageTag: {lineage_tag(model.name, table.name)}")
    if table.date_column:
        lines.append("\tdataCategory: Time")
    lines.append("")
    for measure in (m for m in model.measures if model.home_table(m) is table):
        lines += _description(measure.description, "\t")
        lines.append(f"\tmeasure {tmdl_name(measure.name)} = {model.dax(measure)}")
        lines.append(f"\t\tformatString: {measure.format}")
        lines.append(f"\t\tdisplayFolder: {measure.folder}")
        lines.append(f"\t\tlineageTag: {lineage_tag(model.name, table.name, 'measure', measure.name)}")
        lines.append("")
    key = table.date_column or next((c.name for c in table.columns if c.is_key), None)
    for column in table.columns:
        data_type, _ = _types(table, column)
        lines += _description(column.description, "\t")
        lines.append(f"\tcolumn {tmdl_name(column.display)}")
        lines.append(f"\t\tdataType: {data_type}")
        if column.is_key:
            lines.append("\t\tisHidden")
        if column.name == key and not table.model.startswith("fct_"):
            lines.append("\t\tisKey")
        if data_type == "dateTime":
            lines.append("\t\tformatString: yyyy-mm-dd")
        elif data_type == "double":
            lines.append("\t\tformatString: #,0.00")
        lines.append(f"\t\tlineageTag: {lineage_tag(model.name, table.name, column.name)}")
        lines.append("\t\tsummarizeBy: none")
        lines.append(f"\t\tsourceColumn: {column.name}")
        if column.name in table.sort_by:
            lines.append(f"\t\tsortByColumn: {tmdl_name(table.column(table.sort_by[column.name]).display)}")
        lines.append("")
        if data_type == "dateTime":
            lines += ["\t\tannotation UnderlyingDateTimeDataType = Date", ""]
    lines.append(f"\tpartition {tmdl_name(table.name)} = m")
    lines.append("\t\tmode: import")
    lines.append("\t\tsource =")
    lines += [f"\t\t\t\t{line}" for line in partition_expression(table).splitlines()]
    lines.append("")
    return "\n".join(lines) + "\n"


def role_name(tenant_name: str) -> str:
    return f"Tenant {tenant_name}"


def model_tmdl(model: SemanticModel, tenant_names: Sequence[str] = ()) -> str:
    lines = [
        f"model {tmdl_name(model.name)}",
        "\tculture: en-US",
        "\tdefaultPowerBIDataSourceVersion: powerBI_V3",
        "\tdiscourageImplicitMeasures",
        "\tsourceQueryCulture: en-US",
        "",
        # Auto date/time off: the marked Date table is the calendar, no hidden date table per date column.
        "annotation __PBI_TimeIntelligenceEnabled = 0",
        "",
        f"annotation PBI_QueryOrder = {json.dumps([table.name for table in model.tables] + [PARAMETER])}",
        "",
    ]
    lines += [f"ref table {tmdl_name(table.name)}" for table in model.tables]
    lines += ["", *(f"ref role {tmdl_name(role_name(name))}" for name in tenant_names)] if tenant_names else []
    return "\n".join(lines) + "\n\n"


def database_tmdl(model: SemanticModel) -> str:
    return f"database {tmdl_name(model.name)}\n\tcompatibilityLevel: 1600\n\n"


def expressions_tmdl(model: SemanticModel, export_folder: str) -> str:
    folder = export_folder if export_folder.endswith(("/", "\\")) else export_folder + "/"
    return (
        "\n".join(
            [
                "/// The folder that holds the Parquet export, ending with a path separator. Point it at where the",
                "/// export lives (a local folder, a share the gateway reaches), then Refresh.",
                f'expression {PARAMETER} = {json.dumps(folder)} meta [IsParameterQuery=true, Type="Text", '
                "IsParameterQueryRequired=true]",
                f"\tlineageTag: {lineage_tag(model.name, PARAMETER)}",
                "",
                "\tannotation PBI_ResultType = Text",
                "",
            ]
        )
        + "\n"
    )


def relationships_tmdl(model: SemanticModel) -> str:
    lines = []
    for relationship in model.relationships:
        source, target = model.table(relationship.from_model), model.table(relationship.to_model)
        from_column = source.column(relationship.from_column).display
        to_column = target.column(relationship.to_column).display
        lines.append(f"relationship {lineage_tag(model.name, 'relationship', source.name, from_column)}")
        lines.append(f"\tfromColumn: {tmdl_name(source.name)}.{tmdl_name(from_column)}")
        lines.append(f"\ttoColumn: {tmdl_name(target.name)}.{tmdl_name(to_column)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def role_tmdl(model: SemanticModel, tenant_id: str, tenant_name: str) -> str:
    """Row-level security for one tenant: every table that carries tenant_id shows that tenant's rows only."""
    lines = [
        f"/// Sees the rows of tenant {tenant_name} ({tenant_id}) only. Add its readers as members in the service.",
        f"role {tmdl_name(role_name(tenant_name))}",
        "\tmodelPermission: read",
        "",
    ]
    for table in model.tables:
        if any(column.name == "tenant_id" for column in table.columns):
            column = table.column("tenant_id").display
            lines.append(
                f"\ttablePermission {tmdl_name(table.name)} = "
                f"{dax_table(table.name)}[{column}] = {dax_literal(tenant_id)}"
            )
            lines.append("")
    return "\n".join(lines) + "\n"


def measures_sql(model: SemanticModel) -> str:
    """Every measure's DuckDB twin over the exported Parquet, runnable in the export folder (duckdb < measures.sql)."""
    lines = [
        "-- The DuckDB twin of every measure of the pimlens Power BI model, generated with it from one specification",
        "-- (docs/powerbi.md). Run in the export folder: each is the number a card shows with no filter applied.",
    ]
    lines += [
        f"create or replace view {table.model} as select * from read_parquet('{table.relation}.parquet');"
        for table in model.tables
    ]
    selects = [
        f"select {sql_literal_text(measure.name)} as measure, cast({model.sql(measure)} as double) as value"
        for measure in model.measures
    ]
    lines.append("\nunion all\n".join(selects) + ";")
    return "\n".join(lines) + "\n"


def sql_literal_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _platform(kind: str, name: str) -> dict:
    return {
        "$schema": SCHEMAS["platform"],
        "metadata": {"type": kind, "displayName": name},
        "config": {"version": "2.0", "logicalId": lineage_tag(name, kind)},
    }


def _card(model: SemanticModel, page: str, index: int, measure_name: str) -> dict:
    measure = model.measure(measure_name)
    table = model.home_table(measure).name
    column, row = index % 3, index // 3
    return {
        "$schema": SCHEMAS["visual"],
        "name": f"{page}_{index}",
        "position": {"x": 20 + column * 410, "y": 20 + row * 170, "z": index, "width": 390, "height": 150},
        "visual": {
            "visualType": "card",
            "query": {
                "queryState": {
                    "Values": {
                        "projections": [
                            {
                                "field": {
                                    "Measure": {
                                        "Expression": {"SourceRef": {"Entity": table}},
                                        "Property": measure.name,
                                    }
                                },
                                "queryRef": f"{table}.{measure.name}",
                                "nativeQueryRef": measure.name,
                            }
                        ]
                    }
                }
            },
        },
    }


def write_report(folder: Path, model: SemanticModel) -> None:
    report = folder / f"{model.name}.Report"
    _json(
        report / "definition.pbir",
        {
            "$schema": SCHEMAS["pbir"],
            "version": "4.0",
            "datasetReference": {"byPath": {"path": f"../{model.name}.SemanticModel"}},
        },
    )
    _json(report / ".platform", _platform("Report", model.name))
    definition = report / "definition"
    _json(definition / "version.json", {"$schema": SCHEMAS["version"], "version": "2.0.0"})
    _json(
        definition / "report.json",
        {
            "$schema": SCHEMAS["report"],
            # No base theme: naming one obliges the report to ship its file; Desktop applies its default.
            "themeCollection": {},
        },
    )
    _json(
        definition / "pages" / "pages.json",
        {"$schema": SCHEMAS["pages"], "pageOrder": [page for page, _, _ in PAGES], "activePageName": PAGES[0][0]},
    )
    for page, display_name, measures in PAGES:
        _json(
            definition / "pages" / page / "page.json",
            {
                "$schema": SCHEMAS["page"],
                "name": page,
                "displayName": display_name,
                "displayOption": "FitToPage",
                "height": 720,
                "width": 1280,
            },
        )
        for index, measure in enumerate(measures):
            _json(
                definition / "pages" / page / "visuals" / f"{page}_{index}" / "visual.json",
                _card(model, page, index, measure),
            )


def write_semantic_model(
    folder: Path, model: SemanticModel, tenants: Sequence[tuple[str, str]], export_folder: str
) -> None:
    root = folder / f"{model.name}.SemanticModel"
    _json(root / "definition.pbism", {"$schema": SCHEMAS["pbism"], "version": "4.2", "settings": {}})
    _json(root / ".platform", _platform("SemanticModel", model.name))
    definition = root / "definition"
    _text(definition / "database.tmdl", database_tmdl(model))
    tenants = sorted(tenants, key=lambda tenant: tenant[1])
    _text(definition / "model.tmdl", model_tmdl(model, [name for _, name in tenants]))
    _text(definition / "expressions.tmdl", expressions_tmdl(model, export_folder))
    _text(definition / "relationships.tmdl", relationships_tmdl(model))
    for table in model.tables:
        _text(definition / "tables" / f"{table.name}.tmdl", table_tmdl(model, table))
    for tenant_id, tenant_name in tenants:
        # A tenant's name is the configuration's to choose: characters a file name cannot hold become _.
        file_name = re.sub(r"[^\w .'-]", "_", role_name(tenant_name))
        _text(definition / "roles" / f"{file_name}.tmdl", role_tmdl(model, tenant_id, tenant_name))


def write_project(
    folder: Path, model: SemanticModel, tenants: Iterable[tuple[str, str]], export_folder: str
) -> list[Path]:
    """The whole project in `folder`; returns the files written. `export_folder` is the parameter's default."""
    _json(
        folder / f"{model.name}.pbip",
        {
            "$schema": SCHEMAS["pbip"],
            "version": "1.0",
            "artifacts": [{"report": {"path": f"{model.name}.Report"}}],
            "settings": {"enableAutoRecovery": True},
        },
    )
    write_semantic_model(folder, model, list(tenants), export_folder)
    write_report(folder, model)
    _text(folder / "measures.sql", measures_sql(model))
    projects = [folder / f"{model.name}.SemanticModel", folder / f"{model.name}.Report"]
    files = [path for project in projects for path in project.rglob("*") if path.is_file()]
    return sorted([folder / f"{model.name}.pbip", folder / "measures.sql", *files])


def write_export_project(
    con: duckdb.DuckDBPyConnection, folder: Path, manifest_path: Path, export_folder: Path, schema: str = "marts"
) -> list[Path]:
    """The project for the export being staged in `folder`, whose final place is `export_folder`: the model from
    model.yml and the dbt manifest, one row-level security role per tenant of the star's tenant dimension."""
    model = load_model(manifest_path)
    tenants = model.table("dim_tenant")
    rows = con.execute(f'select tenant_id, tenant_name from {schema}."{tenants.relation}" order by tenant_name')
    return write_project(folder, model, rows.fetchall(), str(export_folder))
