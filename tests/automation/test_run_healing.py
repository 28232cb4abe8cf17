"""Runs whose process died are marked failed and give back their pool slot, so the transform never waits on
them; runs of living processes are left alone. End to end, with real kills: tests/reliability/."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.automation import INGEST_JOB, transform_after_ingests
from pipelines.defs.resources import DUCKDB_WRITER_POOL
from pipelines.lib import paths
from pipelines.lib.dagster_runs import PROCESS_TAG, fail_dead_runs
from pipelines.lib.processes import ProcessIdentity, current_process


@dg.op
def reads_a_tenant() -> None:
    """Stands in for an ingest: only the runs' job name, status and tags matter here."""


@dg.job(name=INGEST_JOB)
def ingest() -> None:
    reads_a_tenant()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    # A persistent instance: the pool slots a killed run holds are kept in its storage.
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def _dead() -> ProcessIdentity:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return ProcessIdentity(process.pid, current_process().host, "1")


def _started_run(instance: dg.DagsterInstance, owner: ProcessIdentity | None) -> dg.DagsterRun:
    tags = {PROCESS_TAG: owner.encode()} if owner else {}
    return instance.create_run_for_job(ingest, status=dg.DagsterRunStatus.STARTED, tags=tags)


def test_a_run_of_a_dead_process_is_failed_and_the_transform_follows_the_ingests(instance) -> None:
    ingest.execute_in_process(instance=instance)
    dead = _started_run(instance, _dead())
    result = transform_after_ingests(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE


def test_runs_of_living_or_unknown_processes_are_left_alone(instance) -> None:
    living, unknown = _started_run(instance, current_process()), _started_run(instance, None)
    assert fail_dead_runs(instance) == []
    waiting = transform_after_ingests(dg.build_sensor_context(instance=instance))
    assert isinstance(waiting, dg.SkipReason) and "still queued or running" in waiting.skip_message
    assert {instance.get_run_by_id(run.run_id).status for run in (living, unknown)} == {dg.DagsterRunStatus.STARTED}


def test_the_pool_slot_of_a_killed_run_is_given_back(instance) -> None:
    storage = instance.event_log_storage
    storage.set_concurrency_slots(DUCKDB_WRITER_POOL, 1)
    dead, living = _started_run(instance, _dead()), _started_run(instance, current_process())
    storage.claim_concurrency_slot(DUCKDB_WRITER_POOL, dead.run_id, "raw_collections")
    storage.claim_concurrency_slot(DUCKDB_WRITER_POOL, living.run_id, "raw_collections")  # waits for the slot
    assert storage.get_concurrency_info(DUCKDB_WRITER_POOL).active_slot_count == 1

    assert fail_dead_runs(instance) == [dead.run_id]
    assert storage.get_concurrency_run_ids() == {living.run_id}


def test_dagster_run_monitoring_backs_this_up_on_the_daemons_path(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.DAGSTER_STORAGE_ENV, str(tmp_path))
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_start_timeout_seconds <= 300
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] <= 120
