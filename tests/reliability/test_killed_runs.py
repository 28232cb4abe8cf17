"""A refresh killed with SIGKILL during ingest, during the quality gates or during dbt: the run is marked failed,
the transform sensor does not wait on it, its dbt child dies with it, its scratch files go at the next start, and a
rerun gives the baseline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.automation import INGEST_JOB, TRANSFORM_JOB, transform_after_ingests
from pipelines.lib import paths
from pipelines.lib.dagster_runs import fail_dead_runs
from pipelines.lib.demo_session import DEMO_CLIENT_SECRET_ENV
from pipelines.lib.ingest import scratch_root
from pipelines.lib.quality.gate import data_docs_index

from .conftest import (
    PSEUDONYM_KEY_ENV,
    Baseline,
    Site,
    children_of,
    command_line,
    environment_of,
    is_running,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def instance_of(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The Dagster instance a site's refreshes record their runs in, opened as the daemon would open it."""
    opened: list[dg.DagsterInstance] = []

    def _open(site: Site) -> dg.DagsterInstance:
        monkeypatch.setenv("DAGSTER_HOME", str(paths.DAGSTER_HOME))
        monkeypatch.setenv("PIMLENS_DAGSTER_STORAGE", str(site.storage))
        opened.append(dg.DagsterInstance.get())
        return opened[-1]

    yield _open
    for instance in opened:
        instance.dispose()


def _runs(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRunStatus]:
    return [run.status for run in instance.get_runs(dg.RunsFilter(job_name=job))]


def test_a_kill_during_ingest_fails_the_run_frees_the_sensor_and_a_rerun_gives_the_baseline(
    baseline: Baseline, tmp_path: Path, instance_of
) -> None:
    site = baseline.copy_to(tmp_path / "site")
    refresh = site.start_refresh("killed")
    # Mid-extraction: pages are on disk in the run's scratch folder, not yet landed.
    leftover = wait_for(
        lambda: next((f for f in scratch_root(site.warehouse).glob("*/*.ndjson") if f.stat().st_size), None),
        timeout=300,
        what="an extracted NDJSON file",
    )
    refresh.kill()
    assert leftover.exists(), "the kill should leave the scratch file behind for the next start to remove"

    instance = instance_of(site)
    assert _runs(instance, INGEST_JOB) == [dg.DagsterRunStatus.STARTED]
    # The sensor's tick marks the dead run failed instead of waiting for it.
    result = transform_after_ingests(dg.build_sensor_context(instance=instance))
    assert _runs(instance, INGEST_JOB) == [dg.DagsterRunStatus.FAILURE]
    assert isinstance(result, dg.SkipReason) and "waiting" not in (result.skip_message or "")
    (failure,) = instance.all_logs(
        instance.get_runs(dg.RunsFilter(job_name=INGEST_JOB))[0].run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    )
    assert f"PID {refresh.process.pid}" in failure.message and "is gone" in failure.message

    site.refresh("rerun")
    assert not leftover.parent.exists()
    assert list(scratch_root(site.warehouse).iterdir()) == []
    baseline.assert_reached_by(site)


def test_kills_during_the_quality_gates_and_during_dbt_kill_dbt_too_and_a_rerun_gives_the_baseline(
    baseline: Baseline, tmp_path: Path, instance_of
) -> None:
    # The baseline's own refresh gated the tenant: nothing set aside or held, every suite passed but the one that warns
    # about the deleted custom role the generator plants, and its summary links the Data Docs.
    summary = (baseline.site.folder / "refresh.log").read_text(encoding="utf-8")
    assert f"Great Expectations Data Docs: {data_docs_index(baseline.site.warehouse).as_uri()}" in summary
    assert "Data quality: 0 records set aside by the latest loads, 0 loads held out of the marts" in summary
    assert _failed_suites(baseline.site) <= PLANTED_WARNINGS

    site = baseline.copy_to(tmp_path / "site", pseudonymise=True)
    # A kill while Great Expectations validates: the raw gates' first result is kept, later verdicts are not.
    gating = site.start_refresh("killed-in-gates")
    wait_for(lambda: _gx_results(site), timeout=300, what="a Great Expectations result")
    gating.kill()
    instance = instance_of(site)
    assert _runs(instance, TRANSFORM_JOB) == [dg.DagsterRunStatus.STARTED]
    assert len(fail_dead_runs(instance)) == 1

    # Then a kill while dbt builds.
    refresh = site.start_refresh("killed-in-dbt")

    def dbt_build() -> int | None:
        for child in children_of(refresh.process.pid):
            line = command_line(child)
            if "build" in line and any(part.endswith("/dbt") for part in line):
                return child
        return None

    dbt = wait_for(dbt_build, timeout=300, what="dbt build starting")
    environment = environment_of(dbt)
    # The run's secrets reach no child that does not need them: dbt reads only the warehouse.
    assert DEMO_CLIENT_SECRET_ENV not in environment and PSEUDONYM_KEY_ENV not in environment
    # dbt works on the site's warehouse, from its folder by the file's bare name (pipelines/lib/dbt_child.py).
    assert Path(f"/proc/{dbt}/cwd").resolve() / environment["PIMLENS_WAREHOUSE"] == site.warehouse.resolve()
    refresh.kill()
    wait_for(lambda: not is_running(dbt), timeout=10, what="dbt dying with its run")

    assert _runs(instance, TRANSFORM_JOB) == [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.FAILURE]
    assert len(fail_dead_runs(instance)) == 1
    assert _runs(instance, TRANSFORM_JOB) == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.FAILURE]

    rerun = site.refresh("rerun")
    assert "marked failed" not in rerun.output()  # already marked: nothing left to heal
    baseline.assert_reached_by(site)
    assert _failed_suites(site) <= PLANTED_WARNINGS
    assert f"Great Expectations Data Docs: {data_docs_index(site.warehouse).as_uri()}" in rerun.output()
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        verdicts = set(con.execute("select distinct verdict, gate from meta.gate_verdicts").fetchall())
    # Every suite judged every load it met (the killed runs' where they got that far): nothing held, and nothing
    # warned but the planted unknown role.
    assert {verdict for verdict, _ in verdicts} <= {"passed", "warned"}
    warned = {gate for verdict, gate in verdicts if verdict == "warned"}
    assert warned <= {f"expectations_{suite}" for suite in PLANTED_WARNINGS}


# The generator plants an eligibility on a deleted custom role (docs/metrics.md, "Unknown is not zero"): the suite of
# the role schedule instances warns about it, and the load is read.
PLANTED_WARNINGS = {"raw_role_schedule_instances"}


def _failed_suites(site: Site) -> set[str]:
    """The suites of the validations kept in the site's GX project that failed."""
    folder = data_docs_index(site.warehouse).parent.parent / "validations"
    results = (json.loads(file.read_text(encoding="utf-8")) for file in folder.rglob("*.json"))
    return {result["suite_name"] for result in results if not result["success"]}


def _gx_results(site: Site) -> set[bool]:
    """Whether each validation kept in the site's GX project succeeded."""
    folder = data_docs_index(site.warehouse).parent.parent / "validations"
    return {json.loads(file.read_text(encoding="utf-8"))["success"] for file in folder.rglob("*.json")}
