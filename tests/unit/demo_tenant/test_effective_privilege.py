"""Effective privilege: the generator's ground truth against a recount from the written files, done with plain
Python and the words of docs/metrics.md ("Effective privilege"), and the path rules on small cases."""

from __future__ import annotations

from pipelines.demo_tenant.effective_privilege import ACTIVE, ELIGIBLE, effective_privilege, group_memberships
from pipelines.demo_tenant.ground_truth import access_rows
from pipelines.demo_tenant.model import TenantModel

from .reading import Tenant, access_rows_from_files

GROUP_PIM = "v1.0/identityGovernance/privilegedAccess/group"


def recount(tenant: Tenant) -> dict[str, int]:
    roles = tenant.collection("beta/roleManagement/directory/roleDefinitions.json")
    privileged = {r["id"] for r in roles if r["isPrivileged"]}
    groups = {g["id"] for g in tenant.collection("v1.0/groups.json")}
    rows = [row for row in access_rows_from_files(tenant) if row[1] in privileged]

    # (principal, group, gives the role actively when the group holds it actively)
    memberships: set[tuple[str, str, bool]] = set()
    for grant in tenant.collection(f"{GROUP_PIM}/eligibilityScheduleInstances.json"):
        memberships.add((grant["principalId"], grant["groupId"], False))
    for grant in tenant.collection(f"{GROUP_PIM}/assignmentScheduleInstances.json"):
        memberships.add((grant["principalId"], grant["groupId"], grant["accessId"] == "member"))
    for group_id in groups:
        path = tenant.root / f"v1.0/groups/{group_id}/transitiveMembers.json"
        if path.exists():
            for member in tenant.collection(path.relative_to(tenant.root).as_posix()):
                memberships.add((member["id"], group_id, True))

    holders: dict[str, set[str]] = {}  # principal -> "direct" / "group" / "active"
    for principal, _, _, state in rows:
        if principal not in groups:
            holders.setdefault(principal, set()).update({"direct"} | ({ACTIVE} if state != "eligible" else set()))
    for principal, group_id, is_active_member in memberships:
        if principal in groups:
            continue
        for _, _, _, state in (row for row in rows if row[0] == group_id):
            holders.setdefault(principal, set()).add("group")
            if is_active_member and state != "eligible":
                holders[principal].add(ACTIVE)
    return {
        "effective_privileged_principals": len(holders),
        "effective_active_privileged_principals": sum(1 for ways in holders.values() if ACTIVE in ways),
        "group_only_privileged_principals": sum(1 for ways in holders.values() if "direct" not in ways),
    }


def test_effective_privilege_ground_truth_equals_a_recount_from_the_files(tenant: Tenant) -> None:
    recounted = recount(tenant)
    assert {name: tenant.truth.metrics[name] for name in recounted} == recounted
    assert recounted["group_only_privileged_principals"] >= 1  # seed 7 has people privileged only through groups


def test_an_eligible_member_or_any_owner_holds_group_roles_only_eligibly(model: TenantModel) -> None:
    paths = effective_privilege(model, access_rows(model))
    through_groups = [path for path in paths if not path.is_direct]
    assert {path.path_kind for path in through_groups} >= {
        "pim_group_member_eligible",
        "pim_group_member_active",
        "pim_group_owner_eligible",
        "pim_group_owner_active",
    }
    for path in through_groups:
        is_active_member = path.path_kind in ("pim_group_member_active", "group_member")
        expected = ACTIVE if is_active_member and path.via_group_access_state != "eligible" else ELIGIBLE
        assert path.state == expected, path


def test_a_transitive_member_with_an_active_pim_grant_is_one_membership(model: TenantModel) -> None:
    memberships = group_memberships(model)
    pim_members = {(m.group_id, m.principal_id) for m in memberships if m.path_kind == "pim_group_member_active"}
    plain = {(m.group_id, m.principal_id) for m in memberships if m.path_kind == "group_member"}
    assert pim_members  # the surface makes every active PIM member a transitive member too
    assert not pim_members & plain
