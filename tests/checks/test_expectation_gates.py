"""The blocking mart gates invoked directly on tiny warehouses: the pass branch and the fail branch, each result kept
in the GX project beside the warehouse and rendered in its Data Docs."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.quality.checks import mart_gates
from pipelines.defs.resources import Warehouse
from pipelines.lib import paths
from pipelines.lib.quality.gate import read_suite_file


@pytest.fixture
def access_gate():
    gate = mart_gates([read_suite_file(paths.EXPECTATIONS_DIR / "fct_role_access.json")])

    def run(warehouse: Warehouse) -> dg.AssetCheckResult:
        (result,) = gate(dg.build_asset_check_context(), warehouse=warehouse)
        return result

    run.definition = gate
    return run


def warehouse_with_access(tmp_path: Path, states: list[str]) -> Warehouse:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.fct_role_access as
            select 'a' || i as access_id, 't' as tenant_id, 'p' || i as principal_id, 'r' as role_definition_id,
                   state as access_state, false as is_standing,
                   timestamptz '2026-01-01' as start_at, cast(null as timestamptz) as end_at
            from (select unnest(?) as state, generate_subscripts(?, 1) as i)""",
            [states, states],
        )
    return Warehouse(path=str(path))


def test_gate_passes_on_valid_rows_and_keeps_its_result_in_data_docs(access_gate, tmp_path: Path) -> None:
    result = access_gate(warehouse_with_access(tmp_path, ["eligible", "activated"]))
    assert result.passed
    assert result.metadata["rows_checked"].value == 2
    assert (tmp_path / "gx").stat().st_mode & 0o777 == 0o750
    docs = tmp_path / "gx" / "data_docs" / "index.html"
    assert result.metadata["data_docs"].value == docs.as_uri()
    assert "fct_role_access" in docs.read_text(encoding="utf-8")
    (kept,) = (tmp_path / "gx" / "validations" / "fct_role_access").rglob("*.json")
    assert '"success": true' in kept.read_text(encoding="utf-8")


def test_gate_fails_with_the_expectation_and_a_sample(access_gate, tmp_path: Path) -> None:
    result = access_gate(warehouse_with_access(tmp_path, ["eligible", "bogus_state"]))
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert "expect_column_values_to_be_in_set on column access_state: 1 bad rows, e.g. ['bogus_state']" in (
        result.description
    )


def test_gates_are_blocking(access_gate) -> None:
    (spec,) = access_gate.definition.check_specs
    assert spec.blocking
    assert spec.asset_key == dg.AssetKey(["marts", "fct_role_access"])
