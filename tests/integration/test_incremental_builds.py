"""A daily build only touches what is new, so it must leave every incremental mart exactly as a full rebuild of
the same raw data and design leaves it: after new audit events, and after a change of the design."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.demo_tenant import generate_tenant
from pipelines.emulator import start_emulator
from pipelines.lib import paths
from pipelines.lib.dbt_commands import SCHEDULED_BUILD

from .conftest import run_refresh

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# Events after this are held back for the second build; the odd hour splits some requests' lifecycles across it.
CUTOFF = AS_OF - timedelta(days=4, hours=7)
# Each incremental model and what reads it, with the columns that differ by design: when the row was written, and
# the load that brought the held-back events.
COMPARED: dict[str, tuple[str, ...]] = {
    "staging.stg_graph__directory_audits": ("load_id",),
    "marts.fct_activation_requests": ("refreshed_at",),
    "marts.fct_activation_justifications": ("refreshed_at",),
    "marts.fct_activations_monthly": ("refreshed_at",),
    "intermediate.int_principal_activations_monthly": ("refreshed_at",),
    "marts.fct_principal_activations_monthly": (),
    "marts.fct_headline_metrics": ("computed_at",),
}
# The alert log keeps an alert once raised (fct_alerts): yesterday's stale eligibility stays raised after today's
# activation, so the count of alerts raised is the one metric a full rebuild of today's data may put lower.
KEPT_ONCE_RAISED = "metric_name != 'alerts_raised'"


@dataclass
class Builds:
    full: Path  # one pipeline run on all the data: its dbt build started from nothing
    incremental: Path  # the same data in two builds: all but the newest events, then the scheduled build


def dbt_build(warehouse: Path, *extra: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *SCHEDULED_BUILD, "--profiles-dir", ".", *extra],
        cwd=paths.DBT_PROJECT_DIR,
        env=dict(os.environ, PIMLENS_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def newest_refresh(warehouse: Path) -> datetime:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select max(refreshed_at) from marts.fct_activation_requests").fetchone()[0]


def differences(incremental: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Per compared table: rows only the incremental build has, and rows only the full one has (duplicates count)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental}' as incremental (read_only)")
        con.execute(f"attach '{full}' as full_build (read_only)")
        return {table: _rows_only_in(con, table, excluded) for table, excluded in COMPARED.items()}


def _rows_only_in(con: duckdb.DuckDBPyConnection, table: str, excluded: tuple[str, ...]) -> tuple[int, int]:
    columns = f"* exclude ({', '.join(excluded)})" if excluded else "*"
    where = f" where {KEPT_ONCE_RAISED}" if table == "marts.fct_headline_metrics" else ""
    incremental = f"select {columns} from incremental.{table}{where}"
    full = f"select {columns} from full_build.{table}{where}"
    return (
        con.execute(f"select count(*) from ({incremental} except all {full})").fetchone()[0],
        con.execute(f"select count(*) from ({full} except all {incremental})").fetchone()[0],
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("incremental")
    generate_tenant(root / "tenant", size="S", seed=11, as_of=AS_OF)
    with start_emulator(root / "tenant", state_dir=root / "emulator") as emulator, pytest.MonkeyPatch.context() as env:
        full_run = run_refresh(emulator, root, env, design=root / "tenant" / "design.yaml")
    assert full_run.result.success

    # Yesterday: the same raw data without the newest audit events, built from scratch.
    incremental = root / "incremental.duckdb"
    shutil.copy(full_run.warehouse, incremental)
    newest = {"cutoff": CUTOFF}
    after_cutoff = "where try_cast(record->>'activityDateTime' as timestamptz) > $cutoff"
    with duckdb.connect(str(incremental)) as con:
        con.execute(f"create table meta.held_back as select * from raw.directory_audits {after_cutoff}", newest)
        con.execute(f"delete from raw.directory_audits {after_cutoff}", newest)
        assert con.execute("select count(*) from meta.held_back").fetchone()[0] > 0
    dbt_build(incremental, "--full-refresh")

    # Today: the held-back events arrive as a later extraction lands them (a new load, whose id sorts after every
    # earlier one, committed with its meta.loads row as landing does), and the scheduled build runs.
    with duckdb.connect(str(incremental)) as con:
        [last_load] = con.execute("select max(load_id) from raw.directory_audits").fetchone()
        next_load = f"{last_load}-next"
        con.execute(
            "insert into raw.directory_audits by name"
            " select * replace (? as load_id, now() as loaded_at) from meta.held_back",
            [next_load],
        )
        con.execute(
            "insert into meta.loads by name select * replace (? as load_id, now() as committed_at)"
            " from meta.loads where load_id = ?",
            [next_load, last_load],
        )
        con.execute("drop table meta.held_back")
    yesterday = newest_refresh(incremental)
    dbt_build(incremental)
    with duckdb.connect(str(incremental), read_only=True) as con:
        rebuilt, kept = con.execute(
            "select count(*) filter (where refreshed_at > $yesterday),"
            " count(*) filter (where refreshed_at = $yesterday) from marts.fct_activation_requests",
            {"yesterday": yesterday},
        ).fetchone()
    # The second build was incremental: it rewrote the requests near the new events and kept the rest.
    assert rebuilt > 0 and kept > rebuilt
    yield Builds(full_run.warehouse, incremental)


def test_a_daily_incremental_build_equals_a_full_rebuild(builds: Builds) -> None:
    assert differences(builds.incremental, builds.full) == dict.fromkeys(COMPARED, (0, 0))


def test_after_a_design_change_an_incremental_build_equals_a_full_rebuild(builds: Builds, tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    shutil.copy(builds.incremental, changed)
    with duckdb.connect(str(changed)) as con:
        # A longer re-activation window and a ticket now required on tier 1: old requests are judged again.
        con.execute("update design.alert_thresholds set repeated_activation_window_seconds = 6 * 3600")
        con.execute("update design.tier_requirements set is_ticket_required = true where tier = 'tier1'")
    before = newest_refresh(changed)
    dbt_build(changed)
    rebuilt_from_scratch = tmp_path / "rebuilt.duckdb"
    shutil.copy(changed, rebuilt_from_scratch)
    dbt_build(rebuilt_from_scratch, "--full-refresh")

    assert differences(changed, rebuilt_from_scratch) == dict.fromkeys(COMPARED, (0, 0))
    with duckdb.connect(str(changed), read_only=True) as con:
        stale = con.execute(
            "select count(*) from marts.fct_activation_requests where refreshed_at <= $before", {"before": before}
        ).fetchone()[0]
    assert stale == 0  # every request was judged by the new rules
