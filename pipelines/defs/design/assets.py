"""The programme design as tables of schema ``design``: what the compliance matrix and the alerts compare with."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, PimlensSource, ProgrammeDesign, Warehouse
from pipelines.lib.alerting.store import acknowledgements, state_path
from pipelines.lib.warehouse.design_tables import write_design


@dg.asset(
    key=["design", "programme"],
    group_name="design",
    kinds={"yaml", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_WRITER_POOL,
)
def programme_design(design: ProgrammeDesign, warehouse: Warehouse, pimlens: PimlensSource) -> dg.MaterializeResult:
    """The validated design file (PIMLENS_DESIGN) written as design.tier_requirements, design.role_tiers_override,
    design.break_glass_accounts, design.business_hours, design.alert_thresholds and friends, in one transaction;
    with them design.tenants, the name the configuration gives each tenant (dim_tenant shows it), and
    design.alert_acknowledgements, the alerts the on-call team acknowledged (the alert state store)."""
    loaded = design.load()
    tenants = [(tenant.tenant_id, tenant.name) for tenant in pimlens.load().tenants]
    acknowledged = acknowledgements(state_path(Path(warehouse.path)))
    with warehouse.connect() as con:
        counts = write_design(con, loaded, tenants, acknowledged)
    return dg.MaterializeResult(
        metadata={
            "design_file": str(loaded.source),
            "role_tier_overrides": counts["role_tiers_override"],
            "break_glass_accounts": counts["break_glass_accounts"],
            "rollout_waves": len(loaded.waves),
            "alert_acknowledgements": counts["alert_acknowledgements"],
            "rows": counts,
        }
    )


defs = dg.Definitions(assets=[programme_design])
