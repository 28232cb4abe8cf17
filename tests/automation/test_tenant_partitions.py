"""Tenant partitions, the daily schedule and the transform sensor, evaluated on an ephemeral instance."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.definitions import defs
from pipelines.defs.automation import (
    INGEST_JOB,
    TRANSFORM_JOB,
    daily_ingest,
    sync_tenant_partitions,
    transform_after_ingests,
)
from pipelines.defs.ingest.partitions import TENANT_PARTITIONS_NAME, partition_changes
from pipelines.defs.resources import PimlensSource

SECRET_ENV = "PIMLENS_TEST_PARTITION_SECRET"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # Not DagsterInstance.ephemeral(): a schedule context needs an instance it can refer to.
    with dg.instance_for_test() as test_instance:
        yield test_instance


def write_config(path: Path, names: list[str], monkeypatch: pytest.MonkeyPatch) -> PimlensSource:
    tenants = [
        {
            "name": name,
            "tenant_id": f"00000000-0000-0000-0000-{index:012d}",
            "client_id": "c0000000-0000-0000-0000-000000000000",
            "client_secret_env": SECRET_ENV,
        }
        for index, name in enumerate(names)
    ]
    path.write_text(yaml.safe_dump({"tenants": tenants}), encoding="utf-8")
    monkeypatch.setenv(SECRET_ENV, "not-used-here")
    return PimlensSource(config_file=str(path))


def sync(instance: dg.DagsterInstance, source: PimlensSource) -> dg.SensorResult:
    """One tick of the sync sensor, its partition requests applied as the daemon would."""
    result = sync_tenant_partitions(dg.build_sensor_context(instance=instance, resources={"pimlens": source}))
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def test_definitions_expose_one_partition_per_configured_tenant(tmp_path, monkeypatch, instance) -> None:
    source = write_config(tmp_path / "pimlens.yaml", ["contoso", "fabrikam", "litware"], monkeypatch)
    sync(instance, source)
    definitions = defs()
    raw_users = definitions.resolve_assets_def(dg.AssetKey(["raw", "users"]))
    assert raw_users.partitions_def.get_partition_keys(dynamic_partitions_store=instance) == [
        "contoso",
        "fabrikam",
        "litware",
    ]
    assert definitions.resolve_job_def(INGEST_JOB).partitions_def == raw_users.partitions_def
    # The marts model every tenant at once: the transform is one unpartitioned run.
    assert definitions.resolve_job_def(TRANSFORM_JOB).partitions_def is None


def test_sync_adds_new_tenants_and_deletes_removed_ones(tmp_path, monkeypatch, instance) -> None:
    instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, ["contoso", "northwind"])
    source = write_config(tmp_path / "pimlens.yaml", ["contoso", "fabrikam"], monkeypatch)
    result = sync(instance, source)
    assert [(type(r).__name__, list(r.partition_keys)) for r in result.dynamic_partitions_requests] == [
        ("AddDynamicPartitionsRequest", ["fabrikam"]),
        ("DeleteDynamicPartitionsRequest", ["northwind"]),
    ]
    assert instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME) == ["contoso", "fabrikam"]
    assert sync(instance, source).dynamic_partitions_requests == []


def test_partition_changes_keep_the_file_order() -> None:
    changes = partition_changes(["b", "a", "c"], ["c", "z"])
    assert (changes.added, changes.removed) == (("b", "a"), ("z",))


def test_the_daily_schedule_requests_one_ingest_run_per_tenant(instance) -> None:
    instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, ["contoso", "fabrikam"])
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 27, 5, tzinfo=UTC)
    )
    requests = list(daily_ingest(context))
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("contoso", "contoso-2026-11-27"),
        ("fabrikam", "fabrikam-2026-11-27"),
    ]
    assert daily_ingest.job_name == INGEST_JOB


@dg.op
def lands_nothing() -> None:
    """Stands in for a tenant's ingest: the sensor looks only at the runs' job name and status."""


@dg.op
def fails() -> None:
    raise RuntimeError("the tenant could not be read")


@dg.job(name=INGEST_JOB)
def ingest_that_succeeds() -> None:
    lands_nothing()


@dg.job(name=INGEST_JOB)
def ingest_that_fails() -> None:
    fails()


@dg.job(name=TRANSFORM_JOB)
def transform_elsewhere() -> None:
    lands_nothing()


def tick(instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult | dg.SkipReason:
    return transform_after_ingests(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_transform_waits_until_no_ingest_is_left_running(instance) -> None:
    assert isinstance(tick(instance), dg.SkipReason)  # nothing ingested yet
    ingest_that_succeeds.execute_in_process(instance=instance)
    running = instance.create_run_for_job(ingest_that_succeeds, status=dg.DagsterRunStatus.STARTED)
    waiting = tick(instance)
    assert isinstance(waiting, dg.SkipReason)
    assert "still queued or running" in waiting.skip_message
    instance.report_run_canceled(running)
    ready = tick(instance)
    assert isinstance(ready, dg.SensorResult)
    assert len(ready.run_requests) == 1
    assert transform_after_ingests.job_name == TRANSFORM_JOB


def test_transform_runs_once_per_round_of_ingests_even_if_a_tenant_fails(instance) -> None:
    ingest_that_succeeds.execute_in_process(instance=instance)
    ingest_that_fails.execute_in_process(instance=instance, raise_on_error=False)
    first = tick(instance)
    assert isinstance(first, dg.SensorResult)
    assert len(first.run_requests) == 1
    # Nothing new since: no second transform for the same ingests.
    assert isinstance(tick(instance, first.cursor), dg.SkipReason)
    # A round in which every tenant failed has nothing new to transform either.
    ingest_that_fails.execute_in_process(instance=instance, raise_on_error=False)
    assert isinstance(tick(instance, first.cursor), dg.SkipReason)
    ingest_that_succeeds.execute_in_process(instance=instance)
    second = tick(instance, first.cursor)
    assert isinstance(second, dg.SensorResult)
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_transform_run_from_elsewhere_counts_as_following_the_ingests(instance) -> None:
    """``pimlens demo`` transforms in process: the sensor must not transform the same ingests again."""
    ingest_that_succeeds.execute_in_process(instance=instance)
    transform_elsewhere.execute_in_process(instance=instance)
    assert isinstance(tick(instance), dg.SkipReason)
    ingest_that_succeeds.execute_in_process(instance=instance)
    assert isinstance(tick(instance), dg.SensorResult)
