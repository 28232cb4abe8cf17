"""The Parquet export analysts point Power BI at, downstream of the gated marts."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, Warehouse
from pipelines.lib.warehouse.export import export_marts

MARTS = [
    "dim_roles",
    "fct_role_access",
    "fct_activation_requests",
    "fct_headline_metrics",
    "dim_role_classification",
    "fct_role_compliance",
    "fct_alerts",
    "fct_privileged_access_daily",
    "fct_activation_justifications",
    "fct_activations_monthly",
    "fct_privileged_service_principals",
    "fct_role_access_history",
    "fct_effective_privilege",
    "fct_effective_privilege_daily",
]


@dg.asset(
    key=["exports", "powerbi_parquet"],
    deps=[dg.AssetKey(["marts", mart]) for mart in MARTS],
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
