"""What runs when: each tenant is ingested in its own partition run, then the warehouse is transformed once.

- ``sync_tenant_partitions`` (sensor) keeps one partition per tenant of the configuration file.
- ``daily_ingest`` (schedule, 05:00 UTC) requests one ``ingest_tenant`` run per tenant partition.
- ``transform_after_ingests`` (sensor) requests one ``transform_warehouse`` run once no ingest run is left
  queued or running and at least one succeeded since its last request: a tenant whose ingest fails does not
  hold back the others, whose metrics are refreshed; the failed tenant keeps its previous rows.

``transform_warehouse`` is unpartitioned (the marts model every tenant) and includes the blocking gates on the
raw tables, so a bad load of any tenant still stops dbt from reading it.
"""

from collections.abc import Iterator

import dagster as dg

from pipelines.defs.ingest.assets import raw_collections
from pipelines.defs.ingest.partitions import TENANT_PARTITIONS_NAME, partition_changes
from pipelines.defs.resources import PimlensSource
from pipelines.lib.dagster_runs import UNFINISHED_STATUSES, fail_dead_runs

INGEST_JOB = "ingest_tenant"
TRANSFORM_JOB = "transform_warehouse"
RAW_ASSETS = dg.AssetSelection.assets(raw_collections)

ingest_tenant = dg.define_asset_job(
    INGEST_JOB,
    # The raw gates belong to the transform, which sees every tenant's latest load at once.
    selection=RAW_ASSETS.without_checks(),
    description="Extract one tenant (the partition) from Graph, Log Analytics and ARM into the raw tables.",
)

transform_warehouse = dg.define_asset_job(
    TRANSFORM_JOB,
    selection=(dg.AssetSelection.all() - RAW_ASSETS) | dg.AssetSelection.checks_for_assets(raw_collections),
    description="Gate the raw tables, rebuild the marts of every tenant, run the quality gates, export for Power BI.",
)


@dg.schedule(job=ingest_tenant, cron_schedule="0 5 * * *", execution_timezone="UTC")
def daily_ingest(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
    """Daily, well inside the 30 days Microsoft keeps audit logs: one ingest run per tenant partition."""
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for tenant in context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME):
        yield dg.RunRequest(run_key=f"{tenant}-{day}", partition_key=tenant)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def sync_tenant_partitions(context: dg.SensorEvaluationContext, pimlens: PimlensSource) -> dg.SensorResult:
    """One partition per tenant of the configuration file: added when a tenant is added, deleted when removed
    (its rows stay in the warehouse)."""
    configured = pimlens.load().tenant_names
    changes = partition_changes(configured, context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
    if changes.added or changes.removed:
        context.log.info(f"tenant partitions: added {list(changes.added)}, removed {list(changes.removed)}")
    return dg.SensorResult(dynamic_partitions_requests=changes.requests)


@dg.sensor(job=transform_warehouse, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def transform_after_ingests(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Runs are compared by storage id, which only grows. A transform run of any origin (this sensor, the UI,
    ``pipelines.refresh``) counts as having followed the ingests before it, and a failed one is not retried.
    A run whose process died is marked failed first, so the transform never waits on it."""
    instance = context.instance
    for run_id in fail_dead_runs(instance):
        context.log.warning(f"run {run_id} was marked failed: its process is gone")
    if _newest_run_id(instance, INGEST_JOB, UNFINISHED_STATUSES) is not None:
        return dg.SkipReason("waiting for the tenants' ingest runs still queued or running")
    ingested = _newest_run_id(instance, INGEST_JOB, [dg.DagsterRunStatus.SUCCESS])
    followed = max(int(context.cursor or 0), _newest_run_id(instance, TRANSFORM_JOB) or 0)
    if ingested is None or ingested <= followed:
        return dg.SkipReason("no tenant was ingested since the last transform")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"after-ingest-{ingested}")], cursor=str(ingested))


def _newest_run_id(
    instance: dg.DagsterInstance, job_name: str, statuses: list[dg.DagsterRunStatus] | None = None
) -> int | None:
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=statuses or []), limit=1)
    return records[0].storage_id if records else None
