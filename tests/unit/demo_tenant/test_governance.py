"""The governance truth (pipelines/demo_tenant/governance.py) recounted from the written files alone: the
authentication context each privileged role asks for against the Conditional Access policies, every approver
against the users and group members, and each approver's decisions per month from the audit log."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from .reading import Tenant


def role_policy_rules(tenant: Tenant) -> dict[str, dict[str, dict]]:
    """Directory role id -> its PIM policy's rules by rule id."""
    assignments = tenant.collection("v1.0/policies/roleManagementPolicyAssignments.json")
    return {
        a["roleDefinitionId"]: {
            r["id"]: r for r in tenant.collection(f"v1.0/policies/roleManagementPolicies/{a['policyId']}/rules.json")
        }
        for a in assignments
        if a["scopeType"] == "DirectoryRole"
    }


def truth_rows(tenant: Tenant, *controls: str) -> set[tuple]:
    return {
        (row["control"], row["role_definition_id"], row["user_id"], row["approver_group_id"], row["is_met"])
        for row in tenant.truth.surfaces["controls"]
        if row["control"] in controls
    }


def test_authentication_contexts_recounted_from_the_files(tenant: Tenant) -> None:
    enforced = {
        context
        for policy in tenant.collection("v1.0/identity/conditionalAccess/policies.json")
        if policy["state"] == "enabled"
        for context in policy["conditions"]["applications"]["includeAuthenticationContextClassReferences"]
    }
    privileged = tenant.privileged_roles()
    recounted = set()
    for role_id, rules in role_policy_rules(tenant).items():
        rule = rules["AuthenticationContext_EndUser_Assignment"]
        if role_id in privileged and rule["isEnabled"]:
            recounted.add(("activation_authentication_context", role_id, None, None, rule["claimValue"] in enforced))
    assert truth_rows(tenant, "activation_authentication_context") == recounted
    # Both cases are planted: a context an enabled policy enforces, and one only a report-only policy targets.
    assert {met for *_, met in recounted} == {True, False}


def test_approver_checks_recounted_from_the_files(tenant: Tenant) -> None:
    enabled = {u["id"]: u["accountEnabled"] for u in tenant.collection("v1.0/users.json")}
    # The warehouse reads the members of role-assignable groups only.
    assignable = {g["id"]: g["isAssignableToRole"] is True for g in tenant.collection("v1.0/groups.json")}
    recounted = set()
    for role_id, rules in role_policy_rules(tenant).items():
        setting = rules["Approval_EndUser_Assignment"]["setting"]
        if not setting["isApprovalRequired"]:
            continue
        for stage in setting["approvalStages"]:
            for approver in stage["primaryApprovers"]:
                if approver["@odata.type"] == "#microsoft.graph.singleUser":
                    listed = [(approver["userId"], None)]
                elif assignable.get(approver["groupId"]) is False:
                    # A plain group: its members are not read, so whether it has an enabled one is unknown.
                    recounted.add(("approver_exists", role_id, None, approver["groupId"], None))
                    continue
                else:
                    group = approver["groupId"]
                    path = tenant.root / "v1.0" / "groups" / group / "transitiveMembers.json"
                    members = tenant.collection(f"v1.0/groups/{group}/transitiveMembers.json") if path.exists() else []
                    listed = [(m["id"], group) for m in members if m["@odata.type"] == "#microsoft.graph.user"]
                    if not listed:
                        recounted.add(("approver_exists", role_id, None, group, False))
                for user, group in listed:
                    recounted.add(("approver_exists", role_id, user, group, user in enabled))
                    if user in enabled:
                        recounted.add(("approver_enabled", role_id, user, group, enabled[user]))
    assert truth_rows(tenant, "approver_exists", "approver_enabled") == recounted
    failed = Counter(control for control, *_, met in recounted if met is False)
    # A deleted approver fails existing (only), a disabled one being enabled; a role-assignable group's members are
    # listed, and a plain group's check is unknown.
    assert failed == {"approver_exists": 1, "approver_enabled": 1}
    assert any(group for _, _, _, group, _ in recounted)
    assert any(group and user is None and met is None for _, _, user, group, met in recounted)


def test_approver_load_and_self_approval_recounted_from_the_audit_log(tenant: Tenant) -> None:
    decided: Counter[tuple[str, str]] = Counter()
    denied: Counter[tuple[str, str]] = Counter()
    own: dict[str, bool] = {}
    for steps in tenant.activation_requests().values():
        for step in ("approved", "denied"):
            if step in steps:
                event = steps[step]
                approver = event.initiator_id
                assert approver is not None
                key = (approver, datetime.fromtimestamp(event.at / 1000, UTC).strftime("%Y-%m-01"))
                decided[key] += 1
                denied[key] += step == "denied"
                is_own = step == "approved" and approver == steps["requested"].principal_id
                own[approver] = own.get(approver, False) or is_own
    recounted = [
        {
            "approver_id": approver,
            "decision_month": month,
            "decided": count,
            "approved": count - denied[(approver, month)],
            "denied": denied[(approver, month)],
        }
        for (approver, month), count in sorted(decided.items())
    ]
    assert tenant.truth.surfaces["approver_load"] == recounted
    assert tenant.truth.metrics["peak_monthly_approver_load"] == max(decided.values())
    assert truth_rows(tenant, "approver_not_requester") == {
        ("approver_not_requester", None, approver, None, not found) for approver, found in own.items()
    }
