"""A small hand-written tenant directory, checked in, with only some collections present.

Its refresh is the `first` tenant of the shared run of the hand-written tenant's variants
(tests/integration/handwritten_variants.py), served and configured as a refresh of it alone would be: the other
tenants of that warehouse share its object ids, so every question here names its tenant id."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import paths
from pipelines.lib.dbt_commands import UNIT_TESTS

from .conftest import VariantsRun, load_json
from .handwritten_variants import HANDWRITTEN_TENANT as TENANT
from .handwritten_variants import HANDWRITTEN_TENANT_ID

pytestmark = pytest.mark.slow


def test_metrics_of_a_handwritten_tenant_match_its_hand_computed_values(handwritten_variants_run: VariantsRun) -> None:
    run = handwritten_variants_run
    assert run.result.success
    expected = load_json(TENANT / "expected_metrics.json")
    measured = run.metrics(HANDWRITTEN_TENANT_ID)
    # Every metric worked out by hand for this tenant; metrics added since are covered by the generated tenants.
    assert {name: measured.get(name) for name in expected} == expected


def test_missing_collections_are_empty_and_unknown_fields_pass_through(handwritten_variants_run: VariantsRun) -> None:
    run = handwritten_variants_run
    tenant = {"tenant": HANDWRITTEN_TENANT_ID}
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        loads = dict(
            con.execute("select collection, rows_received from meta.loads where tenant_id = $tenant", tenant).fetchall()
        )
        assert loads["administrative_units"] == 0  # no file: an empty collection, loaded as such
        assert loads["users"] == 5
        kept = con.execute(
            "select record -> 'someFieldGraphAddsTomorrow' from raw.role_definitions "
            "where tenant_id = $tenant and id = '62e90394-69f5-4237-9190-012177145e10'",
            tenant,
        ).fetchall()
        assert kept == [('{"nested":true}',)]
        states = con.execute(
            "select principal_id, access_state from marts.fct_role_access "
            "where tenant_id = $tenant and principal_id = 'u6'",
            tenant,
        ).fetchall()
        assert states == [("u6", "outside_pim")]


def test_nested_surfaces_are_read_per_parent(handwritten_variants_run: VariantsRun) -> None:
    run = handwritten_variants_run
    with duckdb.connect(str(run.warehouse), read_only=True) as con:

        def rows(columns: str, model: str, order: str = "") -> list[tuple]:
            """`columns` of the hand-written tenant's rows of staging.`model`."""
            sql = f"select {columns} from staging.{model} where tenant_id = ? {order}"
            return con.execute(sql, [HANDWRITTEN_TENANT_ID]).fetchall()

        # PIM for Groups is read for role-assignable groups only: g2's eligibility is never asked for.
        assert rows("group_id, principal_id, group_access", "stg_graph__pim_group_eligibility_instances") == [
            ("g1", "u3", "member")
        ]
        assert rows("group_id, member_id, member_type", "stg_graph__group_transitive_members", "order by 2") == [
            ("g1", "u3", "user"),
            ("g1", "u5", "user"),
        ]
        decisions = "review_definition_id, review_instance_id, decision"
        assert rows(decisions, "stg_graph__access_review_decisions", "order by decision") == [
            ("d1", "i1", "Approve"),
            ("d1", "i1", "Deny"),
        ]
        assert rows("service_principal_id, app_role_id", "stg_graph__service_principal_app_role_assignments") == [
            ("sp1", "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8")
        ]
        assert rows("alert_kind, is_active", "stg_graph__pim_alerts") == [("RolesAssignedOutsidePimAlert", True)]
        assert rows("count(*)", "stg_loganalytics__signin_logs") == [(3,)]


def test_every_dbt_unit_test_passes_on_the_built_warehouse(handwritten_variants_run: VariantsRun) -> None:
    """The scheduled build leaves unit tests out (pipelines/lib/dbt_commands.py); CI runs them here."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pimlens-dbt")), *UNIT_TESTS],
        cwd=paths.DBT_PROJECT_DIR,
        env=dict(os.environ, PIMLENS_WAREHOUSE=str(handwritten_variants_run.warehouse)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert " PASS=" in result.stdout and " PASS=0 " not in result.stdout


def test_model_checks_report_each_broken_rule_of_a_model(handwritten_variants_run: VariantsRun, tmp_path: Path) -> None:
    """The one test node per model (dbt_project/tests/generic/model_checks.sql) fails on a repeated key, a null and
    an unexpected value, and says which rule, column and value each time. The rows broken are the hand-written
    tenant's: the warehouse's other tenants hold the same role ids."""
    warehouse = tmp_path / "broken.duckdb"
    shutil.copy(handwritten_variants_run.warehouse, warehouse)
    tenant_id = HANDWRITTEN_TENANT_ID
    with duckdb.connect(str(warehouse)) as con:
        repeated, unexpected, missing = (
            role_id
            for (role_id,) in con.execute(
                "select role_definition_id from marts.dim_role_classification where tenant_id = ? "
                "order by role_definition_id limit 3",
                [tenant_id],
            ).fetchall()
        )
        con.execute(
            "insert into marts.dim_role_classification "
            "select * from marts.dim_role_classification where tenant_id = ? and role_definition_id = ?",
            [tenant_id, repeated],
        )
        update = "update marts.dim_role_classification set tier = {} where tenant_id = ? and role_definition_id = ?"
        con.execute(update.format("'tier9'"), [tenant_id, unexpected])
        con.execute(update.format("null"), [tenant_id, missing])
    dbt = str(Path(sys.executable).with_name("pimlens-dbt"))
    selected = "dim_role_classification,test_type:data,test_name:model_checks"
    result = subprocess.run(
        [dbt, "test", "--target-path", str(tmp_path), "--select", selected],
        cwd=paths.DBT_PROJECT_DIR,
        env=dict(os.environ, PIMLENS_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stdout[-4000:]
    [compiled] = (tmp_path / "compiled").rglob("dim_role_classification_checks.sql")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        failures = con.execute(f"select check_name, column_name, detail, failing_rows from ({compiled.read_text()})")
        found = {(check, column, detail, failing) for check, column, detail, failing in failures.fetchall()}
    assert {(check, column, failing) for check, column, _, failing in found} == {
        ("unique", "role_classification_id", 2),
        ("unique_per_tenant", "role_definition_id", 2),
        ("not_null", "tier", 1),
        ("accepted_values", "tier", 1),
    }
    assert ("accepted_values", "tier", "tier9", 1) in found
    assert ("unique_per_tenant", "role_definition_id", f"{tenant_id} {repeated}", 2) in found
