"""Analysts never block the pipeline, even through a 429 storm, and a second refresh waits for the first."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.emulator import EmulatorOptions, FaultPlan, start_emulator
from pipelines.lib.warehouse.publish import analytics_path

from .conftest import Baseline, wait_for

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


def test_analysts_reading_through_a_429_storm_never_fail_nor_fail_the_refresh(
    baseline: Baseline, tmp_path: Path
) -> None:
    storm = EmulatorOptions(
        retry_after_scale=0.02,
        faults=FaultPlan(seed=17, throttle_rate=0.2, retry_after_styles=("integer", "decimal", "missing")),
    )
    with start_emulator(baseline.site.tenant.directory, state_dir=tmp_path / "storm", options=storm) as emulator:
        site = baseline.copy_to(tmp_path / "site")
        site.emulator, site.options = emulator, storm
        stop, tallies = tmp_path / "stop", tmp_path / "tallies"
        tallies.mkdir()
        database = analytics_path(site.warehouse)  # the baseline's publication, until the refresh replaces it
        holder = _start(HOLD_OPEN, database, stop, tallies / "held.json")
        assert holder.stdout.readline().strip() == "open"
        reader = _start(READ_NOW_AND_THEN, database, stop, tallies / "reads.json")
        release = tmp_path / "release"
        on_warehouse = _start(HOLD_WAREHOUSE, site.warehouse, release)
        assert on_warehouse.stdout.readline().strip() == "open"
        started = time.monotonic()
        refresh = site.start_refresh()
        try:
            # The refresh waits for the process on the warehouse, and says which one it is.
            wait_for(
                lambda: f"is locked by PID {on_warehouse.pid}" in refresh.output(), timeout=120, what="the lock wait"
            )
            release.touch()
            assert refresh.wait() == 0, refresh.output()[-4000:]
            # Twelve reads at least, as in the trial, even if the refresh was quicker.
            while time.monotonic() - started < 12:
                time.sleep(0.5)
        finally:
            stop.touch()
            release.touch()
            for process in (holder, reader, on_warehouse):
                process.wait(timeout=30)
        throttled = emulator.stats()["throttled_total"]

    reads = json.loads((tallies / "reads.json").read_text())
    assert reads["failures"] == [] and reads["reads"] >= 12
    held = json.loads((tallies / "held.json").read_text())
    assert held["first"] == held["last"] == baseline.snapshot.marts["fct_role_access"]
    assert throttled > 0
    baseline.assert_reached_by(site)


def test_a_second_refresh_waits_for_the_first_and_both_succeed(baseline: Baseline, tmp_path: Path) -> None:
    site = baseline.copy_to(tmp_path / "site")
    first = site.start_refresh("first")
    time.sleep(1.0)
    second = site.start_refresh("second")
    assert first.wait() == 0, first.output()[-4000:]
    assert second.wait() == 0, second.output()[-4000:]
    waited = [run for run in (first, second) if "waiting for the pimlens run that holds" in run.output()]
    assert waited, "neither refresh waited for the other: they ran at the same time"
    assert "Could not set lock" not in first.output() + second.output()
    baseline.assert_reached_by(site)
