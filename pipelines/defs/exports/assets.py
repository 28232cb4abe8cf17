"""The Parquet export analysts point Power BI at, downstream of the gated marts."""

import json
from pathlib import Path

import dagster as dg

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, Warehouse
from pipelines.lib.warehouse.export import export_marts


def mart_keys() -> list[dg.AssetKey]:
    """Every dbt model in the marts schema, from the compiled manifest: the export writes each of them."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    names = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    )
    return [dg.AssetKey(["marts", name]) for name in names]


@dg.asset(
    key=["exports", "powerbi_parquet"],
    deps=mart_keys(),
    group_name="exports",
    kinds={"parquet"},
    owners=OWNERS,
    pool=DUCKDB_WRITER_POOL,
)
def powerbi_parquet(warehouse: Warehouse) -> dg.MaterializeResult:
    """Every mart as a Parquet file beside the warehouse, with a manifest of row counts."""
    out_dir = Path(warehouse.path).parent / "exports"
    with warehouse.connect(read_only=True) as con:
        exported = export_marts(con, out_dir)
    return dg.MaterializeResult(
        metadata={
            "folder": str(out_dir),
            "tables": len(exported),
            "rows": {item.table: item.rows for item in exported},
        }
    )
