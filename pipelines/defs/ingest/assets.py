"""The raw layer: one asset per collection (``raw.<table>`` in DuckDB), partitioned by tenant.

The collections are one multi-asset so that a run reads them all in one step with one token and one event loop;
it can still be subset, so any one collection can be materialized on its own. A run reads one partition, that is
one tenant of the configuration file, so tenants are read, retried and fail independently.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.defs.ingest.partitions import TENANT_PARTITIONS
from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, PimlensSource, Warehouse
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec
from pipelines.lib.ingest import IngestReport, ingest_all

SPECS_BY_KEY = {dg.AssetKey(["raw", spec.table]): spec for spec in COLLECTIONS}


def asset_spec(spec: CollectionSpec) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["raw", spec.table],
        description=spec.description,
        group_name="ingest",
        kinds={"python", "duckdb"},
        owners=OWNERS,
        # A nested collection is read per row of its parent, so the parent (and what its query reads) lands first.
        deps=[dg.AssetKey(["raw", table]) for table in (spec.fan_out.parent_table, *spec.fan_out.also_reads)]
        if spec.fan_out
        else [],
        metadata={
            "source": spec.source.value,
            "path": f"{spec.api_version}/{spec.path}".lstrip("/"),
            "permission": spec.permission,
            "load_mode": spec.mode.value,
        },
    )


@dg.multi_asset(
    name="raw_collections",
    specs=[asset_spec(spec) for spec in COLLECTIONS],
    can_subset=True,
    partitions_def=TENANT_PARTITIONS,
    pool=DUCKDB_WRITER_POOL,
)
def raw_collections(
    context: dg.AssetExecutionContext, pimlens: PimlensSource, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    selected = tuple(spec for key, spec in SPECS_BY_KEY.items() if key in context.selected_asset_keys)
    tenant = pimlens.load().tenant_named(context.partition_key)
    for report in ingest_all([tenant], Path(warehouse.path), selected):
        _log_gaps(context, tenant.name, report)
        yield dg.MaterializeResult(asset_key=["raw", report.spec.table], metadata=_summary(tenant, report))


def _log_gaps(context: dg.AssetExecutionContext, tenant: str, report: IngestReport) -> None:
    if report.status != "ok" and report.spec.delegated_only:
        context.log.info(
            f"{tenant}: {report.spec.table} {report.status} ({report.error}): Graph opens it to delegated "
            f"{report.spec.permission} only, never to an app-only sign-in. No metric depends on it."
        )
    elif report.status != "ok":
        context.log.warning(
            f"{tenant}: {report.spec.table} {report.status} ({report.error}); needs {report.spec.permission}. "
            "Metrics that depend on it read as unknown."
        )
    if report.extracted.dead_letters:
        context.log.warning(
            f"{tenant}: {len(report.extracted.dead_letters)} records of {report.spec.table} could not be read "
            "and went to raw.dead_letter"
        )
    quarantined = report.loaded.quarantined if report.loaded else ()
    if quarantined:
        examples = "; ".join(f"{item.record_id} {item.field}: {item.reason}" for item in quarantined[:3])
        context.log.warning(
            f"{tenant}: {len(quarantined)} records of {report.spec.table} were set aside in meta.quarantine "
            f"(e.g. {examples}); the rest landed. Fix them at the source and the next run lands them."
        )


def _summary(tenant: TenantSettings, report: IngestReport) -> dict[str, object]:
    return {
        "tenant_id": tenant.tenant_id,
        "coverage": report.status,
        "rows_received": report.extracted.rows,
        "rows_inserted": report.loaded.rows_inserted if report.loaded else 0,
        "pages": report.extracted.pages,
        "requests": report.extracted.requests,
        "throttled": report.extracted.throttled,
        "dead_letters": len(report.extracted.dead_letters),
        "quarantined": len(report.loaded.quarantined) if report.loaded else 0,
    }
