"""Freshness of the raw layer, per tenant: a warning on each raw collection some tenant has not had read for 36 h.

Run with the transform (it checks the raw assets, so ``transform_warehouse`` selects it), never blocking it: stale
rows are still the best rows there are, and the coverage already says what could not be read.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from pipelines.defs.ingest.assets import SPECS_BY_KEY
from pipelines.defs.resources import DUCKDB_WRITER_POOL, PimlensSource, Warehouse
from pipelines.lib.warehouse.freshness import STALE_AFTER, last_reads
from pipelines.lib.warehouse.schema import ensure_meta

CHECK_NAME = f"read_within_{int(STALE_AFTER.total_seconds() // 3600)}h"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description=f"Every configured tenant had this collection read in the last {CHECK_NAME.split('_')[-1]}.",
        )
        for key in SPECS_BY_KEY
    ],
    name="raw_freshness",
    can_subset=True,
    pool=DUCKDB_WRITER_POOL,
)
def raw_freshness(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, pimlens: PimlensSource
) -> Iterator[dg.AssetCheckResult]:
    tenants = {tenant.name: tenant.tenant_id for tenant in pimlens.load().tenants}
    keys = [key.asset_key for key in context.selected_asset_check_keys]
    with warehouse.connect() as con:
        ensure_meta(con)
        reads = last_reads(con, tenants, [SPECS_BY_KEY[key].table for key in keys])
    now = datetime.now(UTC)
    for key in keys:
        collection = reads[SPECS_BY_KEY[key].table]
        stale = [read.tenant for read in collection if read.is_stale(now)]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=not stale,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"not read for over {CHECK_NAME.split('_')[-1]}: {', '.join(stale)}" if stale else None,
            metadata={f"hours_since_read_{read.tenant}": read.age_hours(now) for read in collection},
        )
