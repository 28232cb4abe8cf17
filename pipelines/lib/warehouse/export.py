"""Exports the marts to Parquet, the hand-off Power BI reads (never the live DuckDB file, which it would lock).

Files are written to a fresh folder and swapped in with one atomic exchange (``files.swap_folder``), so a reader
sees the old export or the new one, never a mix of both, and the folder exists at every instant. Every column is
cast to a type Power BI's Parquet connector reads as the analyst expects (README, "Power BI"): DuckDB would
otherwise write some types in forms it misreads or rejects.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import progress
from pipelines.lib.files import recover_folder, swap_folder
from pipelines.lib.privacy import Pseudonymiser, select_expression
from pipelines.lib.warehouse.publish import mart_columns, mart_docs

# Types Power BI reads from Parquet as they are.
PORTABLE_TYPES = frozenset(
    {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "FLOAT", "VARCHAR", "DATE"}
)


class UnexportableColumn(ValueError):
    """A mart column of a type with no safe Parquet form for Power BI; the mart must cast it."""


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    file: Path
    columns: dict[str, str]  # name -> the exported DuckDB type


def portable_expression(column: str, data_type: str) -> tuple[str, str]:
    """The select expression that exports `column` of DuckDB type `data_type`, and the type it exports as."""
    quoted = '"' + column.replace('"', '""') + '"'
    if data_type in PORTABLE_TYPES:
        return quoted, data_type
    if data_type == "TIMESTAMP WITH TIME ZONE":
        # A tz-aware Parquet timestamp is not read as a plain date/time; the marts keep UTC, so say so in the name.
        return f"timezone('UTC', {quoted})", "TIMESTAMP"
    if data_type in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        return f"cast({quoted} as timestamp)", "TIMESTAMP"
    if data_type in ("HUGEINT", "UHUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        # HUGEINT would be written as a double without a word; sums and counts fit a BIGINT.
        return f"cast({quoted} as bigint)", "BIGINT"
    if data_type.startswith("DECIMAL"):
        return f"cast({quoted} as double)", "DOUBLE"
    if data_type in ("UUID", "JSON") or data_type.startswith("ENUM"):
        return f"cast({quoted} as varchar)", "VARCHAR"
    if data_type == "INTERVAL":
        return f"epoch({quoted})", "DOUBLE"
    if data_type.endswith("[]") or data_type.startswith(("STRUCT", "MAP", "UNION")):
        return f"cast(to_json({quoted}) as varchar)", "VARCHAR"
    raise UnexportableColumn(f"column {column} has type {data_type}, which has no Power BI-safe Parquet form")


def export_marts(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    schema: str = "marts",
    pseudonymiser: Pseudonymiser | None = None,
    beside: Callable[[Path], object] | None = None,
) -> list[ExportedTable]:
    """Every table of `schema` as Parquet in `out_dir`, personal columns pseudonymised if `pseudonymiser` is given.
    `beside` is called with the staging folder before the swap, to write files that travel with the Parquet (the
    Power BI project): they appear together or not at all."""
    columns = mart_columns(con, schema)
    docs = mart_docs(con, schema)
    if pseudonymiser is not None:
        pseudonymiser.register(con)
    recover_folder(out_dir)
    staging = out_dir.with_name(out_dir.name + ".next")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    exported = []
    if (tracker := progress.current()) is not None:
        tracker.total = len(columns)
    for table, table_columns in columns.items():
        try:
            portable = [
                (name, select_expression(name, expression, data_type, pseudonymiser), type_)
                for name, data_type in table_columns
                for expression, type_ in [portable_expression(name, data_type)]
            ]
        except UnexportableColumn as error:
            raise UnexportableColumn(f"{schema}.{table}: {error}") from None
        select = ", ".join(f'{expression} as "{name}"' for name, expression, _ in portable)
        file = staging / f"{table}.parquet"
        # The folder is the user's to name: its path is quoted as a DuckDB string literal, ' written twice.
        target = str(file).replace("'", "''")
        con.execute(f"copy (select {select} from {schema}.{table}) to '{target}' (format parquet)")
        rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
        exported.append(ExportedTable(table, rows, out_dir / file.name, {name: type_ for name, _, type_ in portable}))
        if tracker is not None:
            tracker.advance(table)
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": {
            item.table: {
                "rows": item.rows,
                "file": item.file.name,
                "columns": item.columns,
                # The dbt YAML's descriptions, as dbt persisted them to the warehouse's comments (persist_docs).
                "description": docs[item.table].description,
                "column_descriptions": {name: docs[item.table].columns.get(name) for name in item.columns},
            }
            for item in exported
        },
    }
    (staging / "_manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if beside is not None:
        beside(staging)
    swap_folder(staging, out_dir)
    return exported
