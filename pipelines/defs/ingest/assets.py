"""One asset per Graph collection: ``raw.<table>`` in DuckDB, for every tenant in the configuration."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, PimlensSource, Warehouse
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec
from pipelines.lib.ingest import ingest_collection


def graph_collection_asset(spec: CollectionSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", spec.table],
        description=spec.description,
        group_name="ingest",
        kinds={"python", "duckdb"},
        owners=OWNERS,
        pool=DUCKDB_WRITER_POOL,
        # A nested collection is read per row of its parent, so the parent lands first in the same run.
        deps=[dg.AssetKey(["raw", spec.fan_out.parent_table])] if spec.fan_out else [],
        metadata={
            "graph_path": f"{spec.api_version}/{spec.path}",
            "permission": spec.permission,
            "load_mode": spec.mode.value,
        },
    )
    def _collection(
        context: dg.AssetExecutionContext, pimlens: PimlensSource, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        config = pimlens.load()
        per_tenant: dict[str, dict[str, object]] = {}
        for tenant in config.tenants:
            report = ingest_collection(tenant, spec, Path(warehouse.path))
            per_tenant[tenant.name] = {
                "coverage": report.status,
                "rows_received": report.extracted.rows,
                "rows_inserted": report.loaded.rows_inserted if report.loaded else 0,
                "pages": report.extracted.pages,
                "requests": report.extracted.requests,
                "throttled": report.extracted.throttled,
                "dead_letters": len(report.extracted.dead_letters),
            }
            if report.status != "ok":
                context.log.warning(
                    f"{tenant.name}: {spec.table} not readable ({report.error}); grant {spec.permission}. "
                    "Metrics that depend on it read as unknown."
                )
            if report.extracted.dead_letters:
                context.log.warning(
                    f"{tenant.name}: {len(report.extracted.dead_letters)} records of {spec.table} could not be "
                    "read and went to raw.dead_letter"
                )
        return dg.MaterializeResult(
            metadata={
                "rows_received": sum(int(t["rows_received"]) for t in per_tenant.values()),
                "rows_inserted": sum(int(t["rows_inserted"]) for t in per_tenant.values()),
                "dead_letters": sum(int(t["dead_letters"]) for t in per_tenant.values()),
                "tenants_not_covered": [name for name, t in per_tenant.items() if t["coverage"] != "ok"],
                "per_tenant": per_tenant,
            }
        )

    _collection.__name__ = f"raw_{spec.table}"
    return _collection


defs = dg.Definitions(assets=[graph_collection_asset(spec) for spec in COLLECTIONS])
