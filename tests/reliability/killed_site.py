"""One copy of the baseline taken through the three kills of issue 17 and the rerun that heals them, shared by the
kill tests (test_killed_runs.py) and the privacy test (test_privacy.py): a refresh costs about a minute of CPU,
and one rerun after three kills checks what a rerun after each kill would.

The site is pseudonymised, so the rerun is also the pseudonymised refresh the privacy test reads. The sequence
records what it saw at each step; the tests assert on the record, so a broken step fails the test about it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pytest

from pipelines.defs.automation import INGEST_JOB, TRANSFORM_JOB, transform_after_ingests
from pipelines.lib import paths
from pipelines.lib.dagster_runs import fail_dead_runs
from pipelines.lib.ingest import scratch_root
from pipelines.lib.quality.gate import data_docs_index

from .process_watch import children_of, command_line, environment_of, first_within, is_running, wait_for

if TYPE_CHECKING:  # conftest builds the shared site from this module
    from .conftest import Baseline, Refresh, Site


@dataclass(frozen=True)
class IngestKill:
    """A refresh killed mid-extraction, then the transform sensor's tick."""

    pid: int
    leftover: Path  # an extracted NDJSON file, not yet landed
    leftover_kept: bool  # the kill left it for the next start to remove
    runs_before_tick: list[dg.DagsterRunStatus]
    runs_after_tick: list[dg.DagsterRunStatus]
    tick: dg.SkipReason | dg.RunRequest | None
    failure_messages: list[str]


@dataclass(frozen=True)
class TransformKills:
    """A refresh killed while Great Expectations validates, then one killed while dbt builds."""

    runs_after_gates_kill: list[dg.DagsterRunStatus]
    healed_after_gates_kill: int  # runs fail_dead_runs marked failed
    dbt_environment: dict[str, str]
    dbt_warehouse: Path  # the file dbt works on: its working folder and PIMLENS_WAREHOUSE
    dbt_died: bool
    runs_after_dbt_kill: list[dg.DagsterRunStatus]
    healed_after_dbt_kill: int
    runs_after_healing: list[dg.DagsterRunStatus]


@dataclass(frozen=True)
class KilledSite:
    site: Site
    ingest: IngestKill
    transform: TransformKills
    rerun: Refresh


def runs_of(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRunStatus]:
    return [run.status for run in instance.get_runs(dg.RunsFilter(job_name=job))]


def validation_results(site: Site) -> list[dict]:
    """The validation results kept in the site's GX project."""
    folder = data_docs_index(site.warehouse).parent.parent / "validations"
    return [json.loads(file.read_text(encoding="utf-8")) for file in folder.rglob("*.json")]


def kill_three_times_and_rerun(baseline: Baseline, folder: Path) -> KilledSite:
    site = baseline.copy_to(folder, pseudonymise=True)
    with pytest.MonkeyPatch.context() as env:
        # The Dagster instance the site's refreshes record their runs in, opened as the daemon would open it.
        env.setenv("DAGSTER_HOME", str(paths.DAGSTER_HOME))
        env.setenv(paths.DAGSTER_STORAGE_ENV, str(site.storage))
        killed, leftover = _kill_during_ingest(site)
        with dg.DagsterInstance.get() as instance:
            ingest = _sensor_tick_after(killed, leftover, instance)
            transform = _kill_during_gates_then_dbt(site, instance)
    return KilledSite(site, ingest, transform, site.refresh("rerun"))


def _kill_during_ingest(site: Site) -> tuple[Refresh, Path]:
    refresh = site.start_refresh("killed-in-ingest")
    # Mid-extraction: pages are on disk in the run's scratch folder, not yet landed.
    leftover = wait_for(
        lambda: next((f for f in scratch_root(site.warehouse).glob("*/*.ndjson") if f.stat().st_size), None),
        timeout=300,
        what="an extracted NDJSON file",
    )
    refresh.kill()
    return refresh, leftover


def _sensor_tick_after(killed: Refresh, leftover: Path, instance: dg.DagsterInstance) -> IngestKill:
    leftover_kept = leftover.exists()
    before = runs_of(instance, INGEST_JOB)
    tick = transform_after_ingests(dg.build_sensor_context(instance=instance))
    newest = instance.get_runs(dg.RunsFilter(job_name=INGEST_JOB))[0]
    failures = instance.all_logs(newest.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return IngestKill(
        killed.process.pid,
        leftover,
        leftover_kept,
        before,
        runs_of(instance, INGEST_JOB),
        tick,
        [failure.message for failure in failures],
    )


def _kill_during_gates_then_dbt(site: Site, instance: dg.DagsterInstance) -> TransformKills:
    # A kill while Great Expectations validates: the raw gates' first result is kept, later verdicts are not.
    gating = site.start_refresh("killed-in-gates")
    wait_for(lambda: validation_results(site), timeout=300, what="a Great Expectations result")
    gating.kill()
    runs_after_gates_kill = runs_of(instance, TRANSFORM_JOB)
    healed_after_gates_kill = len(fail_dead_runs(instance))

    refresh = site.start_refresh("killed-in-dbt")

    def dbt_build() -> int | None:
        for child in children_of(refresh.process.pid):
            line = command_line(child)
            if "build" in line and any(part.endswith("/dbt") for part in line):
                return child
        return None

    dbt = wait_for(dbt_build, timeout=300, what="dbt build starting")
    environment = environment_of(dbt)
    dbt_warehouse = Path(f"/proc/{dbt}/cwd").resolve() / environment["PIMLENS_WAREHOUSE"]
    refresh.kill()
    dbt_died = bool(first_within(lambda: not is_running(dbt), timeout=10))
    runs_after_dbt_kill = runs_of(instance, TRANSFORM_JOB)
    healed_after_dbt_kill = len(fail_dead_runs(instance))
    return TransformKills(
        runs_after_gates_kill,
        healed_after_gates_kill,
        environment,
        dbt_warehouse,
        dbt_died,
        runs_after_dbt_kill,
        healed_after_dbt_kill,
        runs_of(instance, TRANSFORM_JOB),
    )
