"""Exports the marts to Parquet, the hand-off Power BI reads (never the live DuckDB file, which it would lock).

Files are written to a fresh folder and swapped in with one rename, so a reader sees the old export or the new
one, never a mix of both.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    file: Path


def export_marts(con: duckdb.DuckDBPyConnection, out_dir: Path, *, schema: str = "marts") -> list[ExportedTable]:
    tables = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [schema],
        ).fetchall()
    ]
    staging = out_dir.with_name(out_dir.name + ".next")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    exported = []
    for table in tables:
        file = staging / f"{table}.parquet"
        con.execute(f"copy {schema}.{table} to '{file}' (format parquet)")
        rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
        exported.append(ExportedTable(table, rows, out_dir / file.name))
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": {item.table: {"rows": item.rows, "file": item.file.name} for item in exported},
    }
    (staging / "_manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    previous = out_dir.with_name(out_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(previous)
    staging.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)
    return exported
