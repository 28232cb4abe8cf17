"""Bad records of issue 16's table, landed directly: each is set aside with its reason and the rest of its load
lands exactly as a clean load would (the same ids, the same record JSON).

The end-to-end run on a generated tenant (test_bad_records_end_to_end.py) shows the same through the emulator,
dbt and Dagster; these small loads pin each rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE, CollectionSpec
from pipelines.lib.graph.extract import ExtractResult, split_records
from pipelines.lib.graph.record_file import RecordFiles
from pipelines.lib.warehouse.landing import LoadSummary, connect_for_landing, land_collection, read_watermark
from pipelines.lib.warehouse.quarantine import describe, latest_load_quarantine
from pipelines.lib.warehouse.rereads import Reread, reread_set_aside_events

TENANT = "10000000-0000-0000-0000-000000000001"
STARTED = datetime(2026, 11, 1, tzinfo=UTC)
AUDITS = COLLECTIONS_BY_TABLE["directory_audits"]
USERS = COLLECTIONS_BY_TABLE["users"]
ELIGIBILITIES = COLLECTIONS_BY_TABLE["role_eligibility_schedule_instances"]
ASSIGNMENTS = COLLECTIONS_BY_TABLE["role_assignment_schedule_instances"]


def land(
    con: duckdb.DuckDBPyConnection,
    spec: CollectionSpec,
    items: list,
    load_id: str,
    tmp: Path,
    window_start: datetime | None = None,
) -> LoadSummary:
    """Lands ``items`` as the extractor would: records with a string id to the file, the rest as dead letters."""
    path = tmp / f"{load_id}.ndjson"
    dead = []
    with RecordFiles(path, AUDITS.time_property) as writer:
        for split in split_records(items, 1, "https://graph/v1.0/x"):
            if isinstance(split, tuple):
                record_id, line, item = split
                writer.write(record_id, line, item)
            else:
                dead.append(split)
    extracted = ExtractResult(rows=len(items), pages=1, dead_letters=dead)
    return land_collection(
        con,
        spec,
        tenant_id=TENANT,
        load_id=load_id,
        started_at=STARTED,
        ndjson_path=path,
        extracted=extracted,
        window_start=window_start,
    )


def stored(con: duckdb.DuckDBPyConnection, spec: CollectionSpec, load_id: str) -> set[tuple[str, str]]:
    """Each stored record of a load as (id, hash of its JSON): what a clean load must equal."""
    rows = con.execute(
        f"select id, md5(cast(record as varchar)) from raw.{spec.table} where load_id = ?", [load_id]
    ).fetchall()
    assert len(rows) == len({row[0] for row in rows}), "an id is stored twice"
    return set(rows)


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select tenant_id, collection, load_id, record_id, field, reason from meta.quarantine order by record_id"
    ).fetchall()


@pytest.fixture
def warehouses(tmp_path: Path):
    """The warehouse under test and a clean one the same loads land in without the bad records."""
    (tmp_path / "clean").mkdir()
    with connect_for_landing(tmp_path / "w.duckdb") as con, connect_for_landing(tmp_path / "clean.duckdb") as clean:
        yield con, clean


def eligibility(instance_id: str, start: str) -> dict:
    return {
        "id": instance_id,
        "principalId": f"u-{instance_id}",
        "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
        "directoryScopeId": "/",
        "startDateTime": start,
        "endDateTime": None,
    }


def test_an_eligibility_whose_start_is_not_a_date_is_quarantined_and_the_fixed_one_lands_next(
    warehouses, tmp_path: Path
) -> None:
    con, clean = warehouses
    good = [eligibility(f"e{n}", f"2026-0{n}-01T00:00:00Z") for n in range(1, 4)]
    land(con, ELIGIBILITIES, [*good, eligibility("bad", "not-a-date")], "load-1", tmp_path)
    land(clean, ELIGIBILITIES, good, "load-1", tmp_path / "clean")
    assert stored(con, ELIGIBILITIES, "load-1") == stored(clean, ELIGIBILITIES, "load-1")
    assert quarantined(con) == [
        (TENANT, ELIGIBILITIES.table, "load-1", "bad", "startDateTime", "time does not parse"),
    ]
    (finding,) = latest_load_quarantine(con)
    message = describe(finding)
    for named in (TENANT, ELIGIBILITIES.table, "load-1", "bad startDateTime: time does not parse", "fix them"):
        assert named in message
    # The source is fixed: the next snapshot holds every record, and nothing new is set aside.
    fixed = [*good, eligibility("bad", "2026-05-01T00:00:00Z")]
    land(con, ELIGIBILITIES, fixed, "load-2", tmp_path)
    land(clean, ELIGIBILITIES, fixed, "load-2", tmp_path / "clean")
    assert stored(con, ELIGIBILITIES, "load-2") == stored(clean, ELIGIBILITIES, "load-2")
    assert latest_load_quarantine(con) == []


def test_an_id_twice_in_one_snapshot_keeps_one_copy_and_quarantines_the_other(warehouses, tmp_path: Path) -> None:
    con, clean = warehouses
    users = [{"id": "u1", "displayName": "Ann"}, {"id": "u2", "displayName": "Bo"}]
    summary = land(con, USERS, [*users, users[1]], "load-1", tmp_path)
    land(clean, USERS, users, "load-1", tmp_path / "clean")
    assert stored(con, USERS, "load-1") == stored(clean, USERS, "load-1")
    assert quarantined(con) == [(TENANT, "users", "load-1", "u2", "id", "id appears more than once in one snapshot")]
    assert (summary.rows_inserted, len(summary.quarantined)) == (2, 1)


def test_an_object_where_a_principal_id_belongs_is_quarantined_not_a_phantom_principal(
    warehouses, tmp_path: Path
) -> None:
    con, clean = warehouses
    good = {"id": "a1", "principalId": "u1", "roleDefinitionId": "r1", "assignmentType": "Assigned"}
    bad = {**good, "id": "a2", "principalId": {"id": "u2"}}
    land(con, ASSIGNMENTS, [good, bad], "load-1", tmp_path)
    land(clean, ASSIGNMENTS, [good], "load-1", tmp_path / "clean")
    assert stored(con, ASSIGNMENTS, "load-1") == stored(clean, ASSIGNMENTS, "load-1")
    assert quarantined(con) == [
        (TENANT, ASSIGNMENTS.table, "load-1", "a2", "principalId", "an object where a scalar id belongs"),
    ]
    (record,) = con.execute("select record from meta.quarantine").fetchone()
    assert orjson.loads(record) == bad  # kept whole, for whoever fixes the source


def test_audit_events_whose_time_has_no_zone_are_quarantined_never_read_in_the_hosts_zone(
    warehouses, tmp_path: Path
) -> None:
    con, clean = warehouses
    con.execute("set TimeZone = 'Pacific/Kiritimati'")  # a host 14 hours ahead of UTC
    timed = [
        {"id": f"ok{n}", "activityDateTime": f"2026-10-01T{n:02d}:00:00Z", "activityDisplayName": "x"}
        for n in range(10)
    ]
    zoneless = [
        {"id": f"nz{n:02d}", "activityDateTime": "2026-10-02T23:00:00", "activityDisplayName": "x"} for n in range(50)
    ]
    land(con, AUDITS, [*timed, *zoneless], "load-1", tmp_path)
    land(clean, AUDITS, timed, "load-1", tmp_path / "clean")
    assert stored(con, AUDITS, "load-1") == stored(clean, AUDITS, "load-1")
    reasons = {(row[3], row[4], row[5]) for row in quarantined(con)}
    assert reasons == {(f"nz{n:02d}", "activityDateTime", "time has no zone") for n in range(50)}
    # The watermark follows the events that name their zone, not a zone-less time read as local.
    assert read_watermark(con, TENANT, "directory_audits") == datetime(2026, 10, 1, 9, tzinfo=UTC)
    typed = con.execute("select count(*), max(activity_at) from raw.directory_audits_typed").fetchone()
    assert typed == (10, datetime(2026, 10, 1, 9, tzinfo=UTC))


def test_set_aside_events_are_read_again_on_request_once_the_source_is_fixed(warehouses, tmp_path: Path) -> None:
    """An event stream is read from its watermark on: `pimlens reread-events` rewinds it to the window that set
    events aside, and the next load lands them (and nothing twice), as a clean run would have."""
    con, clean = warehouses
    window = datetime(2026, 9, 30, tzinfo=UTC)
    timed = [{"id": f"ok{n}", "activityDateTime": f"2026-10-01T{n:02d}:00:00Z"} for n in range(5)]
    fixed = [{"id": f"nz{n}", "activityDateTime": f"2026-10-02T0{n}:00:00Z"} for n in range(3)]
    zoneless = [{**event, "activityDateTime": event["activityDateTime"].removesuffix("Z")} for event in fixed]
    land(con, AUDITS, [*timed, *zoneless], "20261001T100000Z-load-1", tmp_path, window)
    land(clean, AUDITS, [*timed, *fixed], "20261001T100000Z-load-1", tmp_path / "clean", window)
    assert read_watermark(con, TENANT, "directory_audits") == datetime(2026, 10, 1, 4, tzinfo=UTC)

    assert reread_set_aside_events(con, "the export proxy names zones again", "ops") == [
        Reread(TENANT, "directory_audits", window, 3)
    ]
    # The ingest reads from the watermark less the look-back: the window that set the events aside.
    assert read_watermark(con, TENANT, "directory_audits") - AUDITS.lookback == window
    logged = con.execute("select requested_by, reason, missing_events from meta.rereads").fetchall()
    assert logged == [("ops", "the export proxy names zones again", 3)]

    # The source now gives every event of that window with its zone: only the three missing ones land.
    second = land(con, AUDITS, [*timed, *fixed], "20261003T100000Z-load-2", tmp_path, window)
    assert second.rows_inserted == 3
    everything = "select id, md5(cast(record as varchar)) from raw.directory_audits order by id"
    assert con.execute(everything).fetchall() == clean.execute(everything).fetchall()
    assert read_watermark(con, TENANT, "directory_audits") == datetime(2026, 10, 2, 2, tzinfo=UTC)
    assert reread_set_aside_events(con, "again", "ops") == []


def test_a_user_without_an_id_is_a_dead_letter_that_the_checks_report(warehouses, tmp_path: Path) -> None:
    con, clean = warehouses
    users = [{"id": "u1", "displayName": "Ann"}]
    summary = land(con, USERS, [*users, {"displayName": "Nobody"}], "load-1", tmp_path)
    land(clean, USERS, users, "load-1", tmp_path / "clean")
    assert stored(con, USERS, "load-1") == stored(clean, USERS, "load-1")
    assert summary.dead_letters == 1
    (finding,) = latest_load_quarantine(con)
    assert (finding.tenant_id, finding.collection, finding.quarantined, finding.dead_letters) == (
        TENANT,
        "users",
        0,
        1,
    )
    assert "(no id) id: record has no string id" in describe(finding)
