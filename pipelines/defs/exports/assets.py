"""What analysts read, downstream of the gated marts: the analytics database and the Parquet export for Power BI.

Both are written beside the warehouse and swapped in atomically; with the ``pseudonymise`` option their personal
columns hold keyed pseudonyms.
"""

import json
from pathlib import Path

import dagster as dg

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, PimlensSource, Warehouse
from pipelines.lib import progress
from pipelines.lib.powerbi.project import write_export_project
from pipelines.lib.warehouse.export import export_marts
from pipelines.lib.warehouse.publish import analytics_path, publish_analytics


def mart_keys() -> list[dg.AssetKey]:
    """Every dbt model in the marts schema, from the compiled manifest: the export writes each of them. A versioned
    model's relation (its alias) carries its version: ``dim_tenant_v1``."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    names = sorted(
        node["alias"]
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
def powerbi_parquet(warehouse: Warehouse, pimlens: PimlensSource) -> dg.MaterializeResult:
    """Every mart as a Parquet file beside the warehouse, with a manifest of row counts, and the Power BI project
    that opens them (pimlens.pbip: the star schema's semantic model, its measures and a report; docs/powerbi.md)."""
    out_dir = Path(warehouse.path).parent / "exports"
    project_files: list[Path] = []

    def write_project(staging: Path) -> None:
        project_files.extend(write_export_project(con, staging, Path(dbt_project.manifest_path), out_dir.resolve()))

    with (
        warehouse.connect(read_only=True) as con,
        progress.tracking("export", "Parquet export", unit="tables written"),
    ):
        exported = export_marts(con, out_dir, pseudonymiser=pimlens.load().pseudonymiser(), beside=write_project)
    return dg.MaterializeResult(
        metadata={
            "folder": str(out_dir),
            "power_bi_project": str(out_dir / "pimlens.pbip"),
            "power_bi_project_files": len(project_files),
            "tables": len(exported),
            "rows": {item.table: item.rows for item in exported},
        }
    )


@dg.asset(
    key=["analytics", "marts"],
    deps=mart_keys(),
    group_name="exports",
    kinds={"duckdb"},
    owners=OWNERS,
    pool=DUCKDB_WRITER_POOL,
)
def analytics_database(warehouse: Warehouse, pimlens: PimlensSource) -> dg.MaterializeResult:
    """Every mart and dimension in a read-only DuckDB file beside the warehouse, for analysts, notebooks and BI
    tools: they open it while the pipeline writes the warehouse, and each publication replaces it atomically."""
    target = analytics_path(Path(warehouse.path))
    pseudonymiser = pimlens.load().pseudonymiser()
    with (
        warehouse.connect(read_only=True) as con,
        progress.tracking("export", "analytics database", unit="tables written"),
    ):
        published = publish_analytics(con, target, pseudonymiser=pseudonymiser)
    return dg.MaterializeResult(
        metadata={
            "file": str(target),
            "tables": len(published),
            "pseudonymised": pseudonymiser is not None,
            "rows": {item.table: item.rows for item in published},
        }
    )
