"""A refresh killed with SIGKILL during ingest, during the quality gates or during dbt: the run is marked failed,
the transform sensor does not wait on it, its dbt child dies with it, its scratch files go at the next start, and a
rerun gives the baseline."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from pipelines.lib.demo_session import DEMO_CLIENT_SECRET_ENV
from pipelines.lib.ingest import scratch_root
from pipelines.lib.quality.gate import data_docs_index

from .conftest import PSEUDONYM_KEY_ENV, Baseline, Site
from .killed_site import KilledSite, validation_results

pytestmark = pytest.mark.slow

STARTED, FAILURE = dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.FAILURE


def test_a_kill_during_ingest_fails_the_run_frees_the_sensor_and_a_rerun_gives_the_baseline(
    baseline: Baseline, killed_site: KilledSite
) -> None:
    killed = killed_site.ingest
    assert killed.leftover_kept, "the kill should leave the scratch file behind for the next start to remove"
    assert killed.runs_before_tick == [STARTED]
    # The sensor's tick marks the dead run failed instead of waiting for it.
    assert killed.runs_after_tick == [FAILURE]
    assert isinstance(killed.tick, dg.SkipReason) and "waiting" not in (killed.tick.skip_message or "")
    (failure,) = killed.failure_messages
    assert f"PID {killed.pid}" in failure and "is gone" in failure

    # The next start removed the killed run's scratch folder; the rerun left none of its own.
    site = killed_site.site
    assert not killed.leftover.parent.exists()
    assert list(scratch_root(site.warehouse).iterdir()) == []
    baseline.assert_reached_by(site)


def test_kills_during_the_quality_gates_and_during_dbt_kill_dbt_too_and_a_rerun_gives_the_baseline(
    baseline: Baseline, killed_site: KilledSite
) -> None:
    # The baseline's own refresh gated the tenant: nothing set aside or held, every suite passed but the one that warns
    # about the deleted custom role the generator plants, and its summary links the Data Docs.
    summary = (baseline.site.folder / "refresh.log").read_text(encoding="utf-8")
    assert f"Great Expectations Data Docs: {data_docs_index(baseline.site.warehouse).as_uri()}" in summary
    assert "Data quality: 0 records set aside by the latest loads, 0 loads held out of the marts" in summary
    assert _failed_suites(baseline.site) <= PLANTED_WARNINGS

    site, killed = killed_site.site, killed_site.transform
    # Killed while Great Expectations validated: the run is left started until healed.
    assert killed.runs_after_gates_kill == [STARTED]
    assert killed.healed_after_gates_kill == 1
    # The run's secrets reach no child that does not need them: dbt reads only the warehouse.
    assert DEMO_CLIENT_SECRET_ENV not in killed.dbt_environment and PSEUDONYM_KEY_ENV not in killed.dbt_environment
    # dbt works on the site's warehouse, from its folder by the file's bare name (pipelines/lib/dbt_child.py).
    assert killed.dbt_warehouse == site.warehouse.resolve()
    assert killed.dbt_died, "dbt outlived its killed run"
    assert killed.runs_after_dbt_kill == [STARTED, FAILURE]
    assert killed.healed_after_dbt_kill == 1
    assert killed.runs_after_healing == [FAILURE, FAILURE]

    rerun = killed_site.rerun
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
    return {result["suite_name"] for result in validation_results(site) if not result["success"]}
