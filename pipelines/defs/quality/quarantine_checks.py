"""One check per raw collection: did its latest load of any tenant set records aside?

Any record set aside warns; more than the design's ``data_quality.max_quarantined_records`` in one load fails and
blocks what depends on that collection in the run. The records themselves are in marts.fct_quarantined_records.
"""

from collections.abc import Iterator

import dagster as dg

from pipelines.defs.ingest.assets import SPECS_BY_KEY
from pipelines.defs.resources import DUCKDB_WRITER_POOL, ProgrammeDesign, Warehouse
from pipelines.lib.warehouse.quarantine import describe, latest_load_quarantine
from pipelines.lib.warehouse.schema import ensure_meta

CHECK_NAME = "no_quarantined_records"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=True,
            description="Warns when a latest load set records aside; fails above the design's threshold",
        )
        for key in SPECS_BY_KEY
    ],
    can_subset=True,
    # It may create meta.quarantine in a warehouse that has landed nothing since an upgrade.
    pool=DUCKDB_WRITER_POOL,
)
def quarantined_records(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, design: ProgrammeDesign
) -> Iterator[dg.AssetCheckResult]:
    limit = design.load().data_quality.max_quarantined_records
    with warehouse.connect() as con:
        ensure_meta(con)
        findings = latest_load_quarantine(con)
    by_collection: dict[str, list] = {}
    for finding in findings:
        by_collection.setdefault(finding.collection, []).append(finding)
    for check_key in context.selected_asset_check_keys:
        found = by_collection.get(check_key.asset_key.path[-1], [])
        worst = max((finding.total for finding in found), default=0)
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=CHECK_NAME,
            passed=worst == 0,
            severity=dg.AssetCheckSeverity.ERROR if worst > limit else dg.AssetCheckSeverity.WARN,
            description="; ".join(describe(finding) for finding in found) or "nothing set aside",
            metadata={
                "quarantined": sum(finding.quarantined for finding in found),
                "dead_letters": sum(finding.dead_letters for finding in found),
                "most_in_one_load": worst,
                "threshold": limit,
                "tenants": sorted(finding.tenant_id for finding in found),
            },
        )


defs = dg.Definitions(asset_checks=[quarantined_records])
