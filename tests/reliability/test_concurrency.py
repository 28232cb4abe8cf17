"""Analysts never block the pipeline, even through a 429 storm, and a second refresh waits for the first: both
stories in one pair of refreshes (the `storm` fixture)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from pipelines.emulator import EmulatorOptions, FaultPlan, start_emulator
from pipelines.lib.warehouse.publish import analytics_path

from .conftest import Baseline, Refresh, Site
from .process_watch import wait_for

pytestmark = pytest.mark.slow

# An analyst's notebook that opens the analytics database for half a second every half second and counts what
# it reads, until `stop` exists; its tally goes to `tally`.
READ_NOW_AND_THEN = """
import json, sys, time, duckdb
from pathlib import Path
database, stop, tally = sys.argv[1:]
reads, failures = 0, []
while not Path(stop).exists():
    try:
        with duckdb.connect(database, read_only=True) as con:
            con.execute("select count(*), sum(metric_value) from marts.fct_headline_metrics").fetchone()
            time.sleep(0.5)
        reads += 1
    except Exception as error:
        failures.append(str(error).splitlines()[0])
    time.sleep(0.5)
Path(tally).write_text(json.dumps({"reads": reads, "failures": failures}))
"""
# A long-held read-only connection (a BI tool left open): reads when it starts and again after `stop` exists.
HOLD_OPEN = """
import json, sys, time, duckdb
from pathlib import Path
database, stop, tally = sys.argv[1:]
con = duckdb.connect(database, read_only=True)
query = "select count(*) from marts.fct_role_access"
first = con.execute(query).fetchone()[0]
print("open", flush=True)
while not Path(stop).exists():
    time.sleep(0.2)
Path(tally).write_text(json.dumps({"first": first, "last": con.execute(query).fetchone()[0]}))
"""
# Someone opens the warehouse itself read-only, as the README once advised, and keeps it until `release` exists.
HOLD_WAREHOUSE = """
import sys, time, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
while not Path(sys.argv[2]).exists():
    time.sleep(0.1)
"""


def _start(script: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, text=True)


@dataclass(frozen=True)
class TwoRefreshesInAStorm:
    """Two refreshes of one site through a 429 storm, with analysts reading its publication all along."""

    site: Site
    first: Refresh  # it waited for the process that held the warehouse, and said which one it was
    second: Refresh  # started while the first held the run lock: it waited for it
    first_status: int
    second_status: int
    reads: dict  # READ_NOW_AND_THEN's tally
    held: dict  # HOLD_OPEN's
    throttled: int  # requests the emulator answered with 429


@pytest.fixture(scope="module")
def storm(baseline: Baseline, tmp_path_factory: pytest.TempPathFactory) -> TwoRefreshesInAStorm:
    """One run of both tests' story, as a refresh costs about a minute of CPU: a refresh starts while a process
    holds the warehouse and waits for it; a second starts and waits for the first's run lock; the holder lets go,
    and both refresh through the storm while an analyst reads the publication every second and a BI tool keeps a
    connection to it open."""
    tmp_path = tmp_path_factory.mktemp("storm")
    options = EmulatorOptions(
        retry_after_scale=0.02,
        faults=FaultPlan(seed=17, throttle_rate=0.2, retry_after_styles=("integer", "decimal", "missing")),
    )
    with start_emulator(baseline.site.tenant.directory, state_dir=tmp_path / "storm", options=options) as emulator:
        site = baseline.copy_to(tmp_path / "site")
        site.emulator, site.options = emulator, options
        stop, tallies = tmp_path / "stop", tmp_path / "tallies"
        tallies.mkdir()
        database = analytics_path(site.warehouse)  # the baseline's publication, until a refresh replaces it
        holder = _start(HOLD_OPEN, database, stop, tallies / "held.json")
        assert holder.stdout.readline().strip() == "open"
        reader = _start(READ_NOW_AND_THEN, database, stop, tallies / "reads.json")
        release = tmp_path / "release"
        on_warehouse = _start(HOLD_WAREHOUSE, site.warehouse, release)
        assert on_warehouse.stdout.readline().strip() == "open"
        started = time.monotonic()
        first = site.start_refresh("first")
        second = None
        try:
            # The first waits for the process on the warehouse, and says which one it is.
            wait_for(
                lambda: f"is locked by PID {on_warehouse.pid}" in first.output(), timeout=120, what="the lock wait"
            )
            second = site.start_refresh("second")
            wait_for(lambda: WAITED_FOR_A_RUN in second.output(), timeout=120, what="the second waiting for the first")
            release.touch()
            first_status, second_status = first.wait(), second.wait()
            # Twelve reads at least, as in the trial, even if the refreshes were quicker.
            while time.monotonic() - started < 12:
                time.sleep(0.5)
        finally:
            stop.touch()
            release.touch()
            for process in (holder, reader, on_warehouse):
                process.wait(timeout=30)
            for refresh in (first, second):
                if refresh is not None and refresh.process.poll() is None:
                    refresh.kill()
        throttled = emulator.stats()["throttled_total"]
    return TwoRefreshesInAStorm(
        site,
        first,
        second,
        first_status,
        second_status,
        json.loads((tallies / "reads.json").read_text()),
        json.loads((tallies / "held.json").read_text()),
        throttled,
    )


WAITED_FOR_A_RUN = "waiting for the pimlens run that holds"


def test_analysts_reading_through_a_429_storm_never_fail_nor_fail_the_refresh(
    baseline: Baseline, storm: TwoRefreshesInAStorm
) -> None:
    assert storm.first_status == 0, storm.first.output()[-4000:]
    assert storm.reads["failures"] == [] and storm.reads["reads"] >= 12
    assert storm.held["first"] == storm.held["last"] == baseline.snapshot.marts["fct_role_access"]
    assert storm.throttled > 0
    baseline.assert_reached_by(storm.site)


def test_a_second_refresh_waits_for_the_first_and_both_succeed(baseline: Baseline, storm: TwoRefreshesInAStorm) -> None:
    first, second = storm.first, storm.second
    assert storm.first_status == 0, first.output()[-4000:]
    assert storm.second_status == 0, second.output()[-4000:]
    waited = [run for run in (first, second) if WAITED_FOR_A_RUN in run.output()]
    assert waited, "neither refresh waited for the other: they ran at the same time"
    assert "Could not set lock" not in first.output() + second.output()
    baseline.assert_reached_by(storm.site)
