"""Effective privilege and the head-counts: the generator's ground truth against a recount from the written files,
done with plain Python and the words of docs/metrics.md ("Effective privilege", "Head-counts"), and the path rules
on small cases."""

from __future__ import annotations

from collections import defaultdict

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.effective_privilege import ACTIVE, ELIGIBLE, OWNER, effective_privilege, group_memberships
from pipelines.demo_tenant.ground_truth import access_rows
from pipelines.demo_tenant.model import TenantModel

from .reading import Tenant, access_rows_from_files

GROUP_PIM = "v1.0/identityGovernance/privilegedAccess/group"
STANDING = ("active_permanent", "active_time_bound", "outside_pim")
TYPES = {"#microsoft.graph.user": "user", "#microsoft.graph.servicePrincipal": "service_principal"}


def paths_from_files(tenant: Tenant) -> set[tuple[str, str, str, str, bool]]:
    """(principal, role, path kind, state, standing) of every path to a directory role; owners hold nothing."""
    groups = {g["id"] for g in tenant.collection("v1.0/groups.json")}
    # Directory roles reach through role-assignable groups only (a plain security group's members file is Azure's).
    role_assignable = {g["id"] for g in tenant.collection("v1.0/groups.json") if g["isAssignableToRole"]}
    rows = access_rows_from_files(tenant)

    paths: set[tuple[str, str, str, str, bool]] = set()
    for principal, role, _, state in rows:
        if principal not in groups:
            paths.add(
                (principal, role, f"direct_{state}", ELIGIBLE if state == "eligible" else ACTIVE, state in STANDING)
            )
    # (principal, group, path kind, state of the membership, standing membership)
    memberships: set[tuple[str, str, str, str, bool]] = set()
    pim_members = set()
    for grant in tenant.collection(f"{GROUP_PIM}/eligibilityScheduleInstances.json"):
        state = ELIGIBLE if grant["accessId"] == "member" else OWNER
        memberships.add(
            (grant["principalId"], grant["groupId"], f"pim_group_{grant['accessId']}_eligible", state, False)
        )
    for grant in tenant.collection(f"{GROUP_PIM}/assignmentScheduleInstances.json"):
        state = ACTIVE if grant["accessId"] == "member" else OWNER
        standing = state == ACTIVE and grant["assignmentType"] == "assigned"
        memberships.add(
            (grant["principalId"], grant["groupId"], f"pim_group_{grant['accessId']}_active", state, standing)
        )
        if state == ACTIVE:
            pim_members.add((grant["principalId"], grant["groupId"]))
    for group_id in role_assignable:
        path = tenant.root / f"v1.0/groups/{group_id}/transitiveMembers.json"
        if path.exists():
            for member in tenant.collection(path.relative_to(tenant.root).as_posix()):
                assert member["@odata.type"] in TYPES  # a role-assignable group never contains a group
                if (member["id"], group_id) not in pim_members:
                    memberships.add((member["id"], group_id, "group_member", ACTIVE, True))
    for principal, group_id, kind, membership, standing in memberships:
        for _, role, _, state in (row for row in rows if row[0] == group_id):
            if membership == OWNER:
                path_state = OWNER
            else:
                path_state = ACTIVE if membership == ACTIVE and state != "eligible" else ELIGIBLE
            paths.add((principal, role, kind, path_state, standing and state in STANDING))
    return paths


def recount(tenant: Tenant) -> tuple[dict[str, float], set[tuple[str, str, str, int]]]:
    """The head-count metrics and fct_privileged_head_counts' rows (global_admins and privileged_principals)."""
    privileged = tenant.privileged_roles()
    types = {u["id"]: "user" for u in tenant.collection("v1.0/users.json")}
    types |= {sp["id"]: "service_principal" for sp in tenant.collection("v1.0/servicePrincipals.json")}
    paths = paths_from_files(tenant)
    head_counts: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for name, roles in (("global_admins", {catalog.GLOBAL_ADMINISTRATOR}), ("privileged_principals", privileged)):
        for principal, role, kind, state, _ in paths:
            if role in roles:
                head_counts[(name, types.get(principal, "unknown"), kind)].add(principal)
                if state != OWNER:
                    head_counts[(name, types.get(principal, "unknown"), "any")].add(principal)
    holders: dict[str, set[str]] = defaultdict(set)  # principal -> "direct" / "active" / "standing"
    for principal, role, kind, state, standing in paths:
        if role in privileged and state != OWNER:
            holders[principal] |= {"held"} | ({"direct"} if kind.startswith("direct_") else set())
            holders[principal] |= ({ACTIVE} if state == ACTIVE else set()) | ({"standing"} if standing else set())
    global_admins = {
        p for (name, _, kind), found in head_counts.items() if name == "global_admins" and kind == "any" for p in found
    }
    metrics = {
        "privileged_principals": len(holders),
        "privileged_users": sum(1 for p in holders if types.get(p) == "user"),
        "privileged_service_principals": sum(1 for p in holders if types.get(p) == "service_principal"),
        "eligible_only_principal_share": sum(1 for ways in holders.values() if "standing" not in ways) / len(holders),
        "global_admins": len(global_admins),
        "global_admin_users": sum(1 for p in global_admins if types.get(p) == "user"),
        "global_admin_service_principals": sum(1 for p in global_admins if types.get(p) == "service_principal"),
        "effective_active_privileged_principals": sum(1 for ways in holders.values() if ACTIVE in ways),
        "group_only_privileged_principals": sum(1 for ways in holders.values() if "direct" not in ways),
    }
    return metrics, {(name, kind, path, len(found)) for (name, kind, path), found in head_counts.items()}


def test_head_counts_of_the_ground_truth_equal_a_recount_from_the_files(tenant: Tenant) -> None:
    metrics, head_counts = recount(tenant)
    assert {name: tenant.truth.metrics[name] for name in metrics} == metrics
    truth = {
        (h["head_count"], h["principal_type"], h["path_kind"], h["principals"])
        for h in tenant.truth.head_counts
        if h["head_count"] != "over_privileged_principals"
    }
    assert truth == head_counts
    assert metrics["group_only_privileged_principals"] >= 1  # the app in the tier-0 group holds no role itself
    assert metrics["global_admin_service_principals"] == 1
    owners = {row for row in head_counts if "owner" in row[2]}
    assert owners  # reported on their own path, and never among the holders (recount above)


def test_an_eligible_member_holds_group_roles_only_eligibly_and_an_owner_not_at_all(model: TenantModel) -> None:
    paths = effective_privilege(model, access_rows(model))
    through_groups = [path for path in paths if not path.is_direct]
    assert {path.path_kind for path in through_groups} >= {
        "group_member",
        "pim_group_member_eligible",
        "pim_group_member_active",
        "pim_group_owner_eligible",
        "pim_group_owner_active",
    }
    for path in through_groups:
        is_active_member = path.path_kind in ("pim_group_member_active", "group_member")
        if "owner" in path.path_kind:
            expected = OWNER
        else:
            expected = ACTIVE if is_active_member and path.via_group_access_state != "eligible" else ELIGIBLE
        assert path.state == expected, path
        assert path.is_holder == (expected != OWNER)


def test_a_transitive_member_with_an_active_pim_grant_is_one_membership(model: TenantModel) -> None:
    memberships = group_memberships(model)
    pim_members = {(m.group_id, m.principal_id) for m in memberships if m.path_kind == "pim_group_member_active"}
    plain = {(m.group_id, m.principal_id) for m in memberships if m.path_kind == "group_member"}
    assert pim_members  # the surface makes every active PIM member a transitive member too
    assert not pim_members & plain
