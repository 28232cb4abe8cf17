"""The typing of PIM's audit rows against real shapes: one fixture per shape real tenants emit
(tests/fixtures/real_shapes/audits, each written from the cited public facts), each with the parse expected of it."""

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

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
