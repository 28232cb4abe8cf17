"""The PIM audit log's fields are typed in the transaction that lands them, and typed again when the rule changes."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse import typed_events
from pipelines.lib.warehouse.typed_events import DIRECTORY_AUDITS, ensure_typed_table, ensure_typed_tables

from .test_landing import AUDITS, USERS, audit, land, ndjson

TYPED = "select id, {columns} from raw.directory_audits_typed order by id"


def activation_request(event_id: str) -> dict:
    """A request event as PIM logs it: targets and details in an order Microsoft does not promise."""
    return {
        **audit(event_id, "2026-10-01T08:00:00.5Z"),
        "activityDisplayName": "Add member to role requested (PIM activation)",
        "result": "success",
        "initiatedBy": {"user": {"id": "u1"}, "app": None},
        "targetResources": [
            {"id": "req-1", "type": "Request"},
            {"id": "u1", "type": "User"},
            {"id": "role-1", "type": "Role"},
        ],
        "additionalDetails": [
            {"key": "Justification", "value": "CHG1234 patch the mail servers"},
            {"key": "ExpirationTime", "value": "2026-10-01T16:00:00Z"},
            {"key": "RequestId", "value": "req-1"},
            {"key": "StartTime", "value": "not a time"},
        ],
        "unknownField": {"kept": "in the raw record"},
    }


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def test_landing_types_each_field_the_marts_read(con, tmp_path: Path) -> None:
    land(
        con,
        AUDITS,
        ndjson(tmp_path / "a.ndjson", [activation_request("e1"), audit("e2", "2026-10-02T00:00:00Z")]),
        "l1",
        2,
    )
    columns = "activity_display_name, activity_at, result, initiated_by_user_id, role_definition_id, principal_id, "
    columns += "request_id, justification, schedule_start_at, schedule_end_at, load_id"
    assert con.execute(TYPED.format(columns=columns)).fetchall() == [
        (
            "e1",
            "Add member to role requested (PIM activation)",
            datetime(2026, 10, 1, 8, 0, 0, 500_000, tzinfo=UTC),
            "success",
            "u1",
            "role-1",
            "u1",
            "req-1",
            "CHG1234 patch the mail servers",
            None,  # a time that does not parse reads as unknown, and the load still lands
            datetime(2026, 10, 1, 16, tzinfo=UTC),
            "l1",
        ),
        ("e2", "x", datetime(2026, 10, 2, tzinfo=UTC), None, None, None, None, None, None, None, None, "l1"),
    ]


def test_an_event_read_again_by_the_next_window_is_typed_once(con, tmp_path: Path) -> None:
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [activation_request("e1")]), "l1", 1)
    land(con, AUDITS, ndjson(tmp_path / "b.ndjson", [activation_request("e1"), activation_request("e2")]), "l2", 2)
    assert con.execute(TYPED.format(columns="load_id")).fetchall() == [("e1", "l1"), ("e2", "l2")]


def test_a_warehouse_from_before_typing_has_every_stored_event_typed(con, tmp_path: Path) -> None:
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [activation_request("e1"), activation_request("e2")]), "l1", 2)
    con.execute("drop table raw.directory_audits_typed")
    ensure_typed_tables(con)
    assert con.execute(TYPED.format(columns="request_id")).fetchall() == [("e1", "req-1"), ("e2", "req-1")]


def test_a_changed_typing_rule_types_every_stored_event_again(con, tmp_path: Path, monkeypatch) -> None:
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [activation_request("e1")]), "l1", 1)
    ensure_typed_table(con, "directory_audits")  # the same rule: nothing to do
    newer = dataclasses.replace(DIRECTORY_AUDITS, columns=DIRECTORY_AUDITS.columns + ", 'v2' as rule_version")
    monkeypatch.setitem(typed_events.TYPED_EVENTS, "directory_audits", newer)
    ensure_typed_table(con, "directory_audits")
    assert con.execute(TYPED.format(columns="rule_version, request_id")).fetchall() == [("e1", "v2", "req-1")]
    land(con, AUDITS, ndjson(tmp_path / "b.ndjson", [activation_request("e2")]), "l2", 1)
    assert con.execute(TYPED.format(columns="rule_version")).fetchall() == [("e1", "v2"), ("e2", "v2")]


def test_a_collection_without_typed_fields_gets_no_typed_table(con, tmp_path: Path) -> None:
    land(con, USERS, ndjson(tmp_path / "a.ndjson", [{"id": "u1"}]), "l1", 1)
    ensure_typed_tables(con)
    tables = {
        row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    assert tables == {"users", "dead_letter"}


def test_an_event_whose_time_does_not_parse_or_names_no_zone_is_quarantined_not_typed(con, tmp_path: Path) -> None:
    events = [audit("e1", "yesterday at noon"), audit("e2", "2026-10-02T09:00:00"), audit("e3", "2026-10-02T09:00:00Z")]
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", events), "l1", 3)
    assert con.execute(TYPED.format(columns="activity_at")).fetchall() == [("e3", datetime(2026, 10, 2, 9, tzinfo=UTC))]
    assert con.execute("select record_id, field, reason from meta.quarantine order by 1").fetchall() == [
        ("e1", "activityDateTime", "time does not parse"),
        ("e2", "activityDateTime", "time has no zone"),
    ]


def test_a_stored_event_without_a_zone_is_typed_with_an_unknown_time_never_the_hosts(con, tmp_path: Path) -> None:
    """A warehouse that landed a zone-less event before quarantine existed: typing it again gives no time."""
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [audit("e1", "2026-10-02T09:00:00Z")]), "l1", 1)
    zoneless = """{"activityDateTime": "2026-10-02T09:00:00"}"""
    con.execute("update raw.directory_audits set record = json_merge_patch(record, ?)", [zoneless])
    con.execute("comment on table raw.directory_audits_typed is 'an older rule'")
    ensure_typed_table(con, "directory_audits")
    assert con.execute(TYPED.format(columns="activity_at")).fetchall() == [("e1", None)]


def test_pim_is_known_as_an_initiator_by_its_documented_names_and_app_id_never_by_a_guess(con, tmp_path: Path) -> None:
    """The reference documents PIM's names in either slot and the MS-PIM application's id; it quotes only the first
    group of the system user's id, so a person whose id begins the same way is a person, and another app is no PIM."""
    initiators = {
        "azure-ad-pim": {
            "user": {"id": "any-id", "displayName": "Azure AD PIM", "userPrincipalName": None},
            "app": None,
        },
        "fairfax": {"user": None, "app": {"displayName": "MS-PIM-Fairfax", "appId": None}},
        "ms-pim-by-id": {"user": None, "app": {"displayName": None, "appId": "01FC33A7-78BA-4D2F-A4B7-768E336E890E"}},
        "person": {"user": {"id": "9dfd627f-1111-4222-8333-444455556666", "userPrincipalName": "p@x"}, "app": None},
        "other-app": {"user": None, "app": {"displayName": "Contoso automation", "appId": "a1"}},
    }
    events = [{**audit(name, "2026-10-01T08:00:00Z"), "initiatedBy": by} for name, by in initiators.items()]
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", events), "l1", len(events))
    assert con.execute(TYPED.format(columns="is_system_initiated, initiated_by_user_id")).fetchall() == [
        ("azure-ad-pim", True, None),
        ("fairfax", True, None),
        ("ms-pim-by-id", True, None),
        ("other-app", False, None),
        ("person", False, "9dfd627f-1111-4222-8333-444455556666"),
    ]
