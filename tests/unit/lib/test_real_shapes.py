"""The typing of PIM's audit rows against real shapes: one fixture per shape real tenants emit
(tests/fixtures/real_shapes/audits, each written from the cited public facts), each with the parse expected of it."""

import json
from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.graph.record_file import RecordFiles

from .test_landing import AUDITS, land, ndjson

SHAPES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "real_shapes" / "audits"
SHAPES = {path.stem: json.loads(path.read_text()) for path in sorted(SHAPES_DIR.glob("*.json"))}
TIMES = ("activity_at", "schedule_start_at", "schedule_end_at")


def expected(parse: dict) -> dict:
    return {key: datetime.fromisoformat(value) if key in TIMES and value else value for key, value in parse.items()}


@pytest.fixture(scope="module")
def typed(tmp_path_factory) -> dict[str, dict]:
    """Every shape landed in one load, as the pipeline lands a Graph page: the typed row of each, by event id."""
    tmp_path = tmp_path_factory.mktemp("real_shapes")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [s["row"] for s in SHAPES.values()]), "l1", len(SHAPES))
        cursor = con.execute("select * exclude (tenant_id, load_id) from raw.directory_audits_typed")
        names = [column[0] for column in cursor.description]
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def test_the_fixture_set_covers_the_shapes_the_pipeline_must_read() -> None:
    assert len(SHAPES) >= 25
    services = {s["row"]["loggedByService"] for s in SHAPES.values()}
    assert services == {"PIM", "Core Directory", "Access Reviews"}
    assert {s["row"]["category"] for s in SHAPES.values()} >= {
        "RoleManagement",
        "GroupManagement",
        "ResourceManagement",
        "UserManagement",
    }
    # Both operationType vocabularies (PIM verbs before April 2024, Create/Update after).
    operation_types = {s["row"]["operationType"] for s in SHAPES.values()}
    assert operation_types >= {"ActivateRole", "CreateRequestRoleActivation", "Create", "Update"}
    assert all(s["sources"] for s in SHAPES.values())


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_real_shape_types_to_its_expected_parse(typed, shape: str) -> None:
    fixture = SHAPES[shape]
    row = typed[fixture["row"]["id"]]
    assert set(row) == set(fixture["parse"]), "the fixture's parse names every typed column"
    assert row == expected(fixture["parse"]), fixture["shape"]


def test_one_activation_has_one_request_id_across_services_and_correlation_ids(typed) -> None:
    trail = [
        "pim_activation_requested_2023",
        "pim_activation_approval_requested",
        "access_reviews_request_approved",
        "pim_activation_request_approved",
        "pim_activation_completed_2023",
        "pim_activation_expired_by_azure_ad_pim",
    ]
    correlation_ids = {SHAPES[s]["row"]["correlationId"] for s in trail}
    assert len(correlation_ids) == len(trail)
    assert {typed[SHAPES[s]["row"]["id"]]["request_id"] for s in trail} == {"b3e1c0d2-7a45-4f6b-9c8d-2e1f0a9b8c7d"}


def log_analytics_row(row: dict) -> dict:
    """A Graph directoryAudit as the Log Analytics AuditLogs table holds it (graph-pim-real-world.md sections 1 and
    10): its columns, and the dynamic ones as the JSON text the query API answers with."""
    initiated = row["initiatedBy"]
    who = initiated["user"] or initiated["app"] or {}
    return {
        "TimeGenerated": row["activityDateTime"],
        "ActivityDateTime": row["activityDateTime"],
        "OperationName": row["activityDisplayName"],
        "ActivityDisplayName": row["activityDisplayName"],
        "Category": row["category"],
        "LoggedByService": row["loggedByService"],
        "AADOperationType": row["operationType"],
        "Result": row["result"],
        "ResultReason": row["resultReason"],
        "ResultDescription": "",
        "CorrelationId": row["correlationId"],
        "Id": row["id"],
        "Identity": who.get("displayName"),
        "InitiatedBy": json.dumps(initiated),
        "TargetResources": json.dumps(row["targetResources"]),
        "AdditionalDetails": json.dumps(row["additionalDetails"]),
        "Type": "AuditLogs",
    }


def test_the_log_analytics_copy_of_each_real_shape_types_like_graphs(typed, tmp_path) -> None:
    """The AuditLogs copy types into the very columns and values of Graph's copy, so the two union by id
    (stg_loganalytics__audit_logs, int_audit_events_unioned)."""
    rows = [log_analytics_row(s["row"]) for s in SHAPES.values()]
    # A dynamic column that arrives as an object rather than its text reads the same.
    rows[0] = rows[0] | {"TargetResources": json.loads(rows[0]["TargetResources"])}
    # Dynamic text that is not JSON never stops the load: its fields read as unknown.
    broken = rows[1] | {"Id": "broken", "TargetResources": "not json", "AdditionalDetails": "{"}
    spec = COLLECTIONS_BY_TABLE["la_audit_logs"]
    records = tmp_path / "la.ndjson"
    with RecordFiles(records, spec.time_property) as writer:
        for row in [*rows, broken]:
            writer.write(row["Id"], orjson.dumps({"id": row["Id"], "parent_key": None, "record": row}), row)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        land(con, spec, records, "l1", len(rows) + 1)
        cursor = con.execute("select * exclude (tenant_id, load_id) from raw.la_audit_logs_typed")
        names = [column[0] for column in cursor.description]
        la_typed = {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}
    unreadable = la_typed.pop("broken")
    assert la_typed == typed
    assert (unreadable["activity_display_name"], unreadable["principal_id"], unreadable["request_id"]) == (
        rows[1]["ActivityDisplayName"],
        None,
        None,
    )
