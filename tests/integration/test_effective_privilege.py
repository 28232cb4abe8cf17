"""Effective privilege on the hand-written tenant, with its role-assignable group g1 given roles of its own:
every path worked out by hand, and the daily history agreeing with the latest snapshot."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from .conftest import load_json

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
DIRECTORY = "v1.0/roleManagement/directory"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_ADMINISTRATOR = "194ae4cb-b126-40b2-bd5b-6091b380977d"

pytestmark = pytest.mark.slow


def with_group_roles(tmp_path: Path) -> Path:
    """The hand-written tenant, plus: g1 eligible for Security Administrator and holding Global Administrator
    outside PIM. g1's transitive members are u3 and u5; u3 is also an eligible PIM for Groups member of g1."""
    tenant = shutil.copytree(TENANT, tmp_path / "tenant")
    eligibility = tenant / DIRECTORY / "roleEligibilityScheduleInstances.json"
    rows = json.loads(eligibility.read_text())
    rows.append(
        {
            "id": "eg1-e",
            "principalId": "g1",
            "roleDefinitionId": SECURITY_ADMINISTRATOR,
            "directoryScopeId": "/",
            "appScopeId": None,
            "startDateTime": "2026-02-01T00:00:00Z",
            "endDateTime": "2027-01-01T00:00:00Z",
            "memberType": "Direct",
            "roleEligibilityScheduleId": "eg1",
        }
    )
    eligibility.write_text(json.dumps(rows))
    assignments = tenant / DIRECTORY / "roleAssignments.json"
    rows = json.loads(assignments.read_text())
    rows.append(
        {
            "id": "ra-g1",
            "principalId": "g1",
            "roleDefinitionId": GLOBAL_ADMINISTRATOR,
            "directoryScopeId": "/",
            "appScopeId": None,
        }
    )
    assignments.write_text(json.dumps(rows))
    return tenant


def test_group_roles_reach_members_by_every_path_and_the_daily_history_agrees(
    tmp_path, serve_tenant, run_pipeline
) -> None:
    run = run_pipeline(serve_tenant(with_group_roles(tmp_path)))
    assert run.result.success

    columns = "principal_id, role_name, path_kind, via_group_access_state, privilege_state"
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        group_paths = con.execute(
            f"select {columns} from marts.fct_effective_privilege where not is_direct order by all"
        ).fetchall()
        latest = con.execute(f"select {columns}, start_at, end_at from marts.fct_effective_privilege").fetchall()
        today = con.execute(
            f"""select {columns}, start_at, end_at from marts.fct_effective_privilege_daily
            where snapshot_date = (select max(snapshot_date) from marts.fct_effective_privilege_daily)"""
        ).fetchall()
        groups_as_principals = con.execute(
            "select count(*) from marts.fct_effective_privilege where principal_id = 'g1'"
        ).fetchone()

    # u3 and u5 are plain members: g1's Global Administrator (outside PIM) is theirs actively, its Security
    # Administrator eligibility eligibly. u3's PIM for Groups eligibility gives both only eligibly.
    assert group_paths == [
        ("u3", "Global Administrator", "group_member", "outside_pim", "active"),
        ("u3", "Global Administrator", "pim_group_member_eligible", "outside_pim", "eligible"),
        ("u3", "Security Administrator", "group_member", "eligible", "eligible"),
        ("u3", "Security Administrator", "pim_group_member_eligible", "eligible", "eligible"),
        ("u5", "Global Administrator", "group_member", "outside_pim", "active"),
        ("u5", "Security Administrator", "group_member", "eligible", "eligible"),
    ]
    assert groups_as_principals == (0,)
    assert sorted(today, key=str) == sorted(latest, key=str)

    measured = run.metrics(load_json(TENANT / "tenant.json")["tenantId"])
    # Privileged directly: u1, u2, u4, u5 and the unlisted u6. u3 holds only Exchange Administrator (not
    # privileged) directly, so is privileged only through g1. Active: all but u1, whose one role is eligible.
    assert measured["effective_privileged_principals"] == 6
    assert measured["group_only_privileged_principals"] == 1
    assert measured["effective_active_privileged_principals"] == 5
