"""A small hand-written tenant directory, checked in, with only some collections present."""

from pathlib import Path

import duckdb
import pytest

from .conftest import load_json

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"

pytestmark = pytest.mark.slow


def test_metrics_of_a_handwritten_tenant_match_its_hand_computed_values(serve_tenant, run_pipeline) -> None:
    emulator = serve_tenant(TENANT)
    run = run_pipeline(emulator)
    assert run.result.success
    expected = load_json(TENANT / "expected_metrics.json")
    assert run.metrics(load_json(TENANT / "tenant.json")["tenantId"]) == expected


def test_missing_collections_are_empty_and_unknown_fields_pass_through(serve_tenant, run_pipeline) -> None:
    run = run_pipeline(serve_tenant(TENANT))
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        loads = dict(con.execute("select collection, rows_received from meta.loads").fetchall())
        assert loads["groups"] == 0  # no groups.json: an empty collection, loaded as such
        assert loads["users"] == 5
        kept = con.execute(
            "select record -> 'someFieldGraphAddsTomorrow' from raw.role_definitions "
            "where id = '62e90394-69f5-4237-9190-012177145e10'"
        ).fetchone()[0]
        assert kept == '{"nested":true}'
        states = con.execute(
            "select principal_id, access_state from marts.fct_role_access where principal_id = 'u6'"
        ).fetchall()
        assert states == [("u6", "outside_pim")]
