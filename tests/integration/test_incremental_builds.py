"""A daily build only touches what is new, so it must leave every incremental mart exactly as a full rebuild of
the same raw data and design leaves it: after new audit events, after a change of the design, and after each new
dated snapshot of the versioned state collections, whatever order their loads commit in."""

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

from pipelines.lib import paths
from pipelines.lib.dbt_commands import SCHEDULED_BUILD, as_of_arguments
from pipelines.lib.warehouse.typed_events import type_load

from .conftest import GENERATED_AS_OF, GeneratedRun, warehouse_in

pytestmark = pytest.mark.slow

AS_OF = GENERATED_AS_OF
# Events after this are held back for the second build; the odd hour splits some requests' lifecycles across it.
CUTOFF = AS_OF - timedelta(days=4, hours=7)
NEWEST = {"cutoff": CUTOFF}
# The two copies of the audit log the marts read (int_audit_events_unioned), with the field that times an event.
AUDIT_COPIES = {"directory_audits": "activityDateTime", "la_audit_logs": "ActivityDateTime"}
# The marts incremental by snapshot day (macros/snapshot_days.sql), with the newest load commit their build saw.
DAILY_MARTS = ("marts.fct_effective_privilege_daily", "marts.fct_privileged_access_daily")
# Each incremental model and what reads it, with the columns that differ by design: when the row was written, and
# the load that brought the held-back events.
COMPARED: dict[str, tuple[str, ...]] = {
    "staging.stg_graph__directory_audits": ("load_id",),
    "intermediate.int_audit_events_unioned": ("load_id",),
    "marts.fct_activation_requests": ("refreshed_at",),
    "marts.fct_activation_justifications": ("refreshed_at",),
    "marts.fct_activations_monthly": ("refreshed_at",),
    "intermediate.int_principal_activations_monthly": ("refreshed_at",),
    "marts.fct_principal_activations_monthly": (),
    "marts.fct_headline_metrics": ("computed_at",),
} | dict.fromkeys(DAILY_MARTS, ("loads_committed_through",))
# The alert log keeps an alert once raised (fct_alerts): yesterday's stale eligibility stays raised after today's
# activation, so the count of alerts raised, and the disagreements with Microsoft's PIM alerts counted over those
# alerts (int_pimlens_alert_findings), are the metrics a full rebuild of today's data may put lower.
KEPT_ONCE_RAISED = "metric_name not in ('alerts_raised', 'pim_alert_disagreements')"


@dataclass
class Builds:
    full: Path  # one pipeline run on all the data: its dbt build started from nothing
    incremental: Path  # the same data in two builds: all but the newest events, then the scheduled build


def dbt_build(warehouse: Path, *extra: str) -> None:
    """A build evaluated at the tenant's instant, as the pipeline's builds are (conftest.run_refresh)."""
    command = [str(Path(sys.executable).with_name("pimlens-dbt")), *SCHEDULED_BUILD, *as_of_arguments(AS_OF)]
    result = subprocess.run(
        [*command, *extra],
        cwd=paths.DBT_PROJECT_DIR,
        env=dict(os.environ, PIMLENS_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def newest_refresh(warehouse: Path) -> datetime:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select max(refreshed_at) from marts.fct_activation_requests").fetchone()[0]


def differences(
    incremental: Path, full: Path, compared: dict[str, tuple[str, ...]] = COMPARED
) -> dict[str, tuple[int, int]]:
    """Per compared table: rows only the incremental build has, and rows only the full one has (duplicates count)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental}' as incremental (read_only)")
        con.execute(f"attach '{full}' as full_build (read_only)")
        return {table: _rows_only_in(con, table, excluded) for table, excluded in compared.items()}


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
def builds(shared_tenant_run: GeneratedRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("incremental")
    full_run = shared_tenant_run
    assert full_run.success

    # Yesterday: the same raw data without the newest audit events, in both copies (Graph's and the workspace's),
    # built from scratch.
    incremental = warehouse_in(root / "incremental")
    shutil.copy(full_run.warehouse, incremental)
    with duckdb.connect(str(incremental)) as con:
        for table, time_field in AUDIT_COPIES.items():
            after_cutoff = f"where try_cast(record->>'{time_field}' as timestamptz) > $cutoff"
            con.execute(f"create table meta.held_back_{table} as select * from raw.{table} {after_cutoff}", NEWEST)
            con.execute(f"delete from raw.{table} {after_cutoff}", NEWEST)
            con.execute(
                f"delete from raw.{table}_typed where (tenant_id, id) in "
                f"(select tenant_id, id from meta.held_back_{table})"
            )
            assert con.execute(f"select count(*) from meta.held_back_{table}").fetchone()[0] > 0, table
    dbt_build(incremental, "--full-refresh")

    # Today: the held-back events arrive as a later extraction lands them (a new load per copy, whose id sorts after
    # every earlier one, committed with its meta.loads row as landing does), and the scheduled build runs.
    with duckdb.connect(str(incremental)) as con:
        for table in AUDIT_COPIES:
            [last_load] = con.execute(f"select max(load_id) from raw.{table}").fetchone()
            next_load = f"{last_load}-next"
            con.execute(
                f"insert into raw.{table} by name"
                f" select * replace (? as load_id, now() as loaded_at) from meta.held_back_{table}",
                [next_load],
            )
            type_load(con, table, next_load)
            con.execute(
                "insert into meta.loads by name select * replace (? as load_id, now() as committed_at)"
                " from meta.loads where load_id = ?",
                [next_load, last_load],
            )
            con.execute(f"drop table meta.held_back_{table}")
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
    changed = warehouse_in(tmp_path / "changed")
    shutil.copy(builds.incremental, changed)
    with duckdb.connect(str(changed)) as con:
        # A longer re-activation window and a ticket now required on tier 1: old requests are judged again.
        con.execute("update design.alert_thresholds set repeated_activation_window_seconds = 6 * 3600")
        con.execute("update design.tier_requirements set is_ticket_required = true where tier = 'tier1'")
    before = newest_refresh(changed)
    dbt_build(changed)
    rebuilt_from_scratch = warehouse_in(tmp_path / "rebuilt")
    shutil.copy(changed, rebuilt_from_scratch)
    dbt_build(rebuilt_from_scratch, "--full-refresh")

    assert differences(changed, rebuilt_from_scratch) == dict.fromkeys(COMPARED, (0, 0))
    with duckdb.connect(str(changed), read_only=True) as con:
        stale = con.execute(
            "select count(*) from marts.fct_activation_requests where refreshed_at <= $before", {"before": before}
        ).fetchone()[0]
    assert stale == 0  # every request was judged by the new rules


ELIGIBILITY = "role_eligibility_schedule_instances"
ASSIGNMENTS = "role_assignment_schedule_instances"
POLICIES = "role_management_policy_assignments"
# The history models, what reads them and the daily marts; a selection, so each day's build is the part under test.
HISTORY_BUILD = ("--select", "int_snapshot_changes+", *(mart.split(".")[1] for mart in DAILY_MARTS))
HISTORY_COMPARED: dict[str, tuple[str, ...]] = {
    "intermediate.int_snapshot_changes": (),
    "marts.fct_role_access_history": (),
    "marts.fct_role_compliance_history": (),
} | dict.fromkeys(DAILY_MARTS, ("loads_committed_through",))
CHANGED_END = '{"endDateTime": "2027-01-01T00:00:00Z"}'


@dataclass
class History:
    incremental: Path  # a build after each day's snapshots landed
    full: Path  # the same raw data, history rebuilt from nothing
    loads: dict[str, str]  # day name -> load id of the eligibility snapshot (plus 'assignments_day3')
    committed: dict[str, datetime]  # load id -> committed_at
    changed: str  # an eligibility changed on day 2
    gone_and_back: str  # an eligibility absent from day 2 (and the late load), back on day 3
    late_gone: str  # an eligibility absent from the late load only
    assignment_gone: str  # an active assignment absent from day 3 on


def land_snapshot(
    con: duckdb.DuckDBPyConnection, collection: str, load_id: str, committed_at: datetime, rows: str
) -> None:
    """A dated snapshot as the extractor lands it: the (tenant_id, id, parent_key, record) rows `rows` selects, and
    its manifest row, copied from the collection's first load with a new id and commit time."""
    con.execute(
        f"insert into raw.{collection} (tenant_id, load_id, loaded_at, id, record, parent_key)"
        f" select tenant_id, $load, $committed, id, record, parent_key from ({rows})",
        {"load": load_id, "committed": committed_at},
    )
    con.execute(
        "insert into meta.loads select * replace ($load as load_id, $committed as committed_at) from meta.loads"
        " where collection = $collection order by load_id limit 1",
        {"load": load_id, "committed": committed_at, "collection": collection},
    )


@pytest.fixture(scope="module")
def history(builds: Builds, tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("history")
    incremental = warehouse_in(root / "incremental")
    shutil.copy(builds.full, incremental)
    with duckdb.connect(str(incremental)) as con:
        first, first_committed = con.execute(
            "select load_id, committed_at from meta.loads where collection = $c", {"c": ELIGIBILITY}
        ).fetchone()
        first_assignments = con.execute(
            "select load_id from meta.loads where collection = $c", {"c": ASSIGNMENTS}
        ).fetchone()[0]
        changed, gone_and_back, late_gone = (
            row[0] for row in con.execute(f"select id from raw.{ELIGIBILITY} order by id limit 3").fetchall()
        )
        assignment_gone = con.execute(f"select min(id) from raw.{ASSIGNMENTS}").fetchone()[0]
        # Day 1: the policy assignments were never read; they land on day 2, a collection new to the history.
        con.execute(f"create table meta.held_back_policies as select * from raw.{POLICIES}")
        con.execute(
            "create table meta.held_back_policy_loads as select * from meta.loads where collection = $c",
            {"c": POLICIES},
        )
        con.execute(f"delete from raw.{POLICIES}")
        con.execute("delete from meta.loads where collection = $c", {"c": POLICIES})
    dbt_build(incremental, *HISTORY_BUILD, "--full-refresh")

    # Load ids sort by extraction start: each day's sorts after the first, and the late one between days 2 and 3.
    loads = {"day1": first, "day2": f"{first}-day2", "day3": f"{first}-day3", "late": f"{first}-day2-late"}
    loads["assignments_day3"] = f"{first_assignments}-day3"
    committed = {first: first_committed} | {
        loads[day]: first_committed + timedelta(days=offset)
        for day, offset in (("day2", 1), ("day3", 2), ("assignments_day3", 2), ("late", 3))
    }
    first_rows = f"select * from raw.{ELIGIBILITY} where load_id = '{first}'"
    changed_record = f"case when id = '{changed}' then json_merge_patch(record, '{CHANGED_END}') else record end"
    day2_rows = f"select * replace ({changed_record} as record) from ({first_rows}) where id != '{gone_and_back}'"

    with duckdb.connect(str(incremental)) as con:
        land_snapshot(con, ELIGIBILITY, loads["day2"], committed[loads["day2"]], day2_rows)
        con.execute(f"insert into raw.{POLICIES} select * from meta.held_back_policies")
        con.execute("insert into meta.loads select * from meta.held_back_policy_loads")
        con.execute("drop table meta.held_back_policies")
        con.execute("drop table meta.held_back_policy_loads")
    dbt_build(incremental, *HISTORY_BUILD)

    with duckdb.connect(str(incremental)) as con:
        day3_rows = f"select * replace ({changed_record} as record) from ({first_rows})"
        land_snapshot(con, ELIGIBILITY, loads["day3"], committed[loads["day3"]], day3_rows)
        assignments = f"select * from raw.{ASSIGNMENTS} where load_id = '{first_assignments}'"
        assignments_day3 = f"{assignments} and id != '{assignment_gone}'"
        land_snapshot(
            con, ASSIGNMENTS, loads["assignments_day3"], committed[loads["assignments_day3"]], assignments_day3
        )
    dbt_build(incremental, *HISTORY_BUILD)

    # A load that started before day 3's but committed after day 3 was built: its id sorts between days 2 and 3.
    with duckdb.connect(str(incremental)) as con:
        late_rows = f"{day2_rows} and id != '{late_gone}'"
        land_snapshot(con, ELIGIBILITY, loads["late"], committed[loads["late"]], late_rows)
    dbt_build(incremental, *HISTORY_BUILD)

    full = warehouse_in(root / "full")
    shutil.copy(incremental, full)
    dbt_build(full, *HISTORY_BUILD, "--full-refresh")
    return History(incremental, full, loads, committed, changed, gone_and_back, late_gone, assignment_gone)


def test_history_built_day_by_day_equals_a_full_rebuild(history: History) -> None:
    assert differences(history.incremental, history.full, HISTORY_COMPARED) == dict.fromkeys(HISTORY_COMPARED, (0, 0))


def test_history_built_day_by_day_has_each_change_and_the_late_load(history: History) -> None:
    at = {day: history.committed[load_id] for day, load_id in history.loads.items()}
    with duckdb.connect(str(history.incremental), read_only=True) as con:
        versions = con.execute(
            """select instance_id, access_state, valid_from, valid_to from marts.fct_role_access_history
            where instance_id in ($changed, $gone_and_back, $late_gone, $assignment_gone)
            order by instance_id, valid_from""",
            {
                "changed": history.changed,
                "gone_and_back": history.gone_and_back,
                "late_gone": history.late_gone,
                "assignment_gone": history.assignment_gone,
            },
        ).fetchall()
        new_collection_versions = con.execute(
            f"select count(*) from intermediate.int_snapshot_changes where collection = '{POLICIES}'"
            " and change_kind = 'start'"
        ).fetchone()[0]
    by_instance: dict[str, list[tuple]] = {}
    for instance_id, *version in versions:
        by_instance.setdefault(instance_id, []).append(tuple(version))
    assert by_instance[history.changed] == [
        ("eligible", at["day1"], at["day2"]),
        ("eligible", at["day2"], None),
    ]
    assert by_instance[history.gone_and_back] == [
        ("eligible", at["day1"], at["day2"]),
        ("eligible", at["day3"], None),
    ]
    # Gone from the late load only, which sorts before day 3: the day-3 load was compared again, with it.
    assert by_instance[history.late_gone] == [
        ("eligible", at["day1"], at["late"]),
        ("eligible", at["day3"], None),
    ]
    assert [version[2] for version in by_instance[history.assignment_gone]] == [at["assignments_day3"]]
    assert new_collection_versions > 0


def test_a_daily_build_derives_only_the_newest_day_until_the_design_changes(history: History, tmp_path: Path) -> None:
    """A stored day is left alone by the next day's build, and rebuilt after a change of what it is judged by."""
    warehouse = warehouse_in(tmp_path / "daily")
    shutil.copy(history.incremental, warehouse)
    day1 = history.committed[history.loads["day1"]].astimezone(UTC).date()
    marked = "update marts.fct_privileged_access_daily set standing_access = -1 where snapshot_date = $day"
    marked_rows = "select count(*) from marts.fct_privileged_access_daily where standing_access = -1"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(marked, {"day": day1})
        assert con.execute(marked_rows).fetchone()[0] > 0
        next_day = f"{history.loads['day1']}-day5"
        next_committed = history.committed[history.loads["late"]] + timedelta(days=1)
        land_snapshot(
            con,
            ELIGIBILITY,
            next_day,
            next_committed,
            f"select * from raw.{ELIGIBILITY} where load_id = '{history.loads['day3']}'",
        )
        days_before = con.execute(
            "select count(distinct snapshot_date) from marts.fct_effective_privilege_daily"
        ).fetchone()[0]
    dbt_build(warehouse, *HISTORY_BUILD)
    with duckdb.connect(str(warehouse)) as con:
        days_after = con.execute(
            "select count(distinct snapshot_date) from marts.fct_effective_privilege_daily"
        ).fetchone()[0]
        assert days_after == days_before + 1
        assert con.execute(marked_rows).fetchone()[0] > 0  # day 1 was not derived again
        con.execute("update design.programme set baseline_date = baseline_date - 1")
    dbt_build(warehouse, *HISTORY_BUILD)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(marked_rows).fetchone()[0] == 0  # the design changed: every day was counted again
