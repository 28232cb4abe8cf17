"""State history from dated snapshots: an eligibility removed between two runs ends, the rest stay current; a policy
that drops approval shows as a regression."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.emulator import start_emulator
from tests.limits import emulator_options

from .conftest import PipelineRun, run_refresh

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
ELIGIBILITY = "v1.0/roleManagement/directory/roleEligibilityScheduleInstances.json"

pytestmark = pytest.mark.slow


GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
POLICY_ID = "DirectoryRole_hand_ga"


def write_global_admin_policy(tenant: Path, approvers: list[str]) -> None:
    """A PIM policy for Global Administrator whose only rule is approval by `approvers` (none: no approval)."""
    policies = tenant / "v1.0" / "policies"
    (policies / "roleManagementPolicies" / POLICY_ID).mkdir(parents=True, exist_ok=True)
    assignment = {
        "id": f"{POLICY_ID}_{GLOBAL_ADMINISTRATOR}",
        "policyId": POLICY_ID,
        "scopeId": "/",
        "scopeType": "DirectoryRole",
        "roleDefinitionId": GLOBAL_ADMINISTRATOR,
    }
    policy = {"id": POLICY_ID, "displayName": "Directory Role", "scopeId": "/", "scopeType": "DirectoryRole"}
    approval = {
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
        "id": "Approval_EndUser_Assignment",
        "setting": {
            "isApprovalRequired": bool(approvers),
            "approvalStages": [
                {"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": u} for u in approvers]}
            ],
        },
    }
    (policies / "roleManagementPolicyAssignments.json").write_text(json.dumps([assignment]))
    (policies / "roleManagementPolicies.json").write_text(json.dumps([policy]))
    (policies / "roleManagementPolicies" / POLICY_ID / "rules.json").write_text(json.dumps([approval]))


@pytest.fixture(scope="module")
def second_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    """Two runs on one warehouse: the hand-written tenant with an approval policy on Global Administrator, then the
    same tenant a day later with one eligibility removed and the approval dropped. Each test reads one change."""
    root = tmp_path_factory.mktemp("history")
    before = shutil.copytree(TENANT, root / "before")
    write_global_admin_policy(before, approvers=["u1", "u2"])
    after = shutil.copytree(before, root / "after")
    remaining = [row for row in json.loads((after / ELIGIBILITY).read_text()) if row["id"] != "e1-e"]
    (after / ELIGIBILITY).write_text(json.dumps(remaining))
    write_global_admin_policy(after, approvers=[])
    with pytest.MonkeyPatch.context() as env:
        for tenant in (before, after):
            state = root / f"emulator-{tenant.name}"
            with start_emulator(tenant, state_dir=state, options=emulator_options()) as emulator:
                run = run_refresh(emulator, root, env)
        yield run


def test_a_removed_eligibility_gets_a_valid_to_and_leaves_the_daily_trend(second_run: PipelineRun) -> None:
    with duckdb.connect(str(second_run.warehouse), read_only=True) as con:
        versions = con.execute(
            """select instance_id, valid_to is null from intermediate.int_access_history_versioned
            where access_state = 'eligible' order by instance_id"""
        ).fetchall()
        assert versions == [("e1-e", False), ("e2-e", True), ("e3-e", True)]
        history = con.execute(
            """select principal_id, role_name, is_current from marts.fct_role_access_history
            where access_state = 'eligible' and is_privileged_role order by principal_id"""
        ).fetchall()
        # Exchange Administrator is tier 0 by the classification seed, so privileged, though Microsoft does not flag it.
        assert history == [
            ("u1", "Global Administrator", False),
            ("u2", "Security Administrator", True),
            ("u3", "Exchange Administrator", True),
        ]
        today = con.execute(
            """select sum(eligible_access) from marts.fct_privileged_access_daily
            where snapshot_date = current_date"""
        ).fetchone()
        # u2's Security Administrator and u3's Exchange Administrator; u1's Global Administrator eligibility ended.
        assert today == (2,)


def test_a_policy_that_drops_approval_shows_as_a_regression_in_the_compliance_history(second_run: PipelineRun) -> None:
    with duckdb.connect(str(second_run.warehouse), read_only=True) as con:
        stretches = con.execute(
            """select compliance_rule, actual_value, compliance_status, drift, valid_to is null
            from marts.fct_role_compliance_history
            where role_definition_id = ? and compliance_rule in ('approval_required', 'min_approvers')
            order by compliance_rule, valid_from""",
            [GLOBAL_ADMINISTRATOR],
        ).fetchall()
        assert stretches == [
            ("approval_required", "true", "pass", None, False),
            ("approval_required", "false", "fail", "regressed", True),
            ("min_approvers", "2", "pass", None, False),
            ("min_approvers", "0", "fail", "regressed", True),
        ]
        # The current stretches are today's matrix.
        mismatches = con.execute(
            """select count(*) from (select * from marts.fct_role_compliance where role_system = 'entra') as today
            full join (select * from marts.fct_role_compliance_history where is_current) as history
                using (tenant_id, role_definition_id, compliance_rule)
            where today.compliance_status is distinct from history.compliance_status
                or today.actual_value is distinct from history.actual_value"""
        ).fetchone()
        assert mismatches == (0,)
