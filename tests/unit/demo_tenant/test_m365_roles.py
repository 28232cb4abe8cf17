"""Intune's and Exchange's RBAC in the demo tenant: the ground truth's rows and metrics against a recount from the
written files, done with plain Python and the words of docs/metrics.md ("Other role systems")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pipelines.demo_tenant.effective_privilege import OWNER
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.m365_roles import EXCHANGE_ROLES, INTUNE_ROLES, M365Roles

from .reading import Tenant
from .test_effective_privilege import paths_from_files

INTUNE = "beta/roleManagement/deviceManagement"
EXCHANGE = "beta/roleManagement/exchange"


def rows_from_files(tenant: Tenant) -> list[dict[str, Any]]:
    """One row per system, assignment, principal (a group's users and service principals instead of the group), role
    and scope."""
    groups = {g["id"] for g in tenant.collection("v1.0/groups.json")}

    def reached(principal: str) -> list[tuple[str, str | None]]:
        """A group's members but groups, else the principal itself (a group that reaches nobody names itself)."""
        if principal not in groups:
            return [(principal, None)]
        members = tenant.collection(f"v1.0/groups/{principal}/transitiveMembers.json")
        found = [(m["id"], principal) for m in members if m["@odata.type"] != "#microsoft.graph.group"]
        return found or [(principal, None)]

    grants = [
        ("intune", a["id"], p, a["roleDefinitionId"], scope)
        for a in tenant.collection(f"{INTUNE}/roleAssignments.json")
        for p in a["principalIds"]
        for scope in a["directoryScopeIds"] + a["appScopeIds"]
    ] + [
        ("exchange", a["id"], a["principalId"].rsplit("/", 1)[-1], a["roleDefinitionId"], a["directoryScopeId"])
        for a in tenant.collection(f"{EXCHANGE}/roleAssignments.json")
    ]
    rows = [
        {
            "role_system": system,
            "assignment_id": assignment,
            "principal_id": holder,
            "via_group_id": via,
            "role_definition_id": role,
            "scope_id": scope,
        }
        for system, assignment, principal, role, scope in grants
        for holder, via in reached(principal)
    ]
    key = ("role_system", "assignment_id", "principal_id", "scope_id")
    return sorted(rows, key=lambda row: tuple(row[k] for k in key))


def test_intune_and_exchange_inventory_equals_a_recount_from_the_files(tenant: Tenant) -> None:
    rows = rows_from_files(tenant)
    assert tenant.truth.surfaces["m365_role_assignments"] == rows
    privileged = tenant.privileged_roles()
    entra_holders = {p for p, role, _, state, _ in paths_from_files(tenant) if role in privileged and state != OWNER}
    # Users and service principals are counted; an object no directory lists is not.
    directory = {u["id"] for u in tenant.collection("v1.0/users.json")}
    directory |= {sp["id"] for sp in tenant.collection("v1.0/servicePrincipals.json")}
    holders = {
        system: {r["principal_id"] for r in rows if r["role_system"] == system and r["principal_id"] in directory}
        for system in ("intune", "exchange")
    }
    recounted = {
        "intune_role_principals": len(holders["intune"]),
        "exchange_role_principals": len(holders["exchange"]),
        "privileged_principals_with_m365_roles": len((holders["intune"] | holders["exchange"]) & entra_holders),
    }
    assert {name: tenant.truth.metrics[name] for name in recounted} == recounted
    # Every kind of row is planted: both systems, a group expanded, an app named by a path, a scoped assignment, and
    # privileged Entra holders who also hold these roles beside users who hold no Entra role.
    assert {r["role_system"] for r in rows} == {"intune", "exchange"}
    assert any(r["via_group_id"] for r in rows)
    assert all(r["principal_id"] in directory for r in rows)
    assert any(
        a["principalId"].startswith("/ServicePrincipals/")
        for a in tenant.collection(f"{EXCHANGE}/roleAssignments.json")
    )
    assert {r["scope_id"] == "/" for r in rows} == {True, False}
    assert 0 < recounted["privileged_principals_with_m365_roles"] < len(holders["intune"] | holders["exchange"])


def test_intune_roles_are_assigned_to_plain_security_groups_of_users(tenant: Tenant) -> None:
    """Intune's role assignments name member security groups (Graph's deviceAndAppManagementRoleAssignment.members),
    never users: each of the four roles goes to a security group that is not role-assignable, whose members are
    users."""
    groups = {g["id"]: g for g in tenant.collection("v1.0/groups.json")}
    assignments = tenant.collection(f"{INTUNE}/roleAssignments.json")
    assert len(assignments) == 4
    for assignment in assignments:
        (group_id,) = assignment["principalIds"]
        group = groups[group_id]
        assert group["securityEnabled"] and not group["isAssignableToRole"]
        members = tenant.collection(f"v1.0/groups/{group_id}/transitiveMembers.json")
        assert members and {m["@odata.type"] for m in members} == {"#microsoft.graph.user"}


@pytest.mark.parametrize(
    ("users", "groups", "apps", "planted"),
    [
        (0, 0, 0, []),
        # No admin (nobody holds an Entra role here), three ordinary users, one plain group left for Intune.
        (3, 3, 0, ["Help Desk Operator"]),
        # Four ordinary users and an app; Intune Role Administrator has no admin, so its group stays unused.
        (6, 4, 1, ["Help Desk Operator", "View-Only Configuration", "Application Mail.Read"]),
    ],
)
def test_a_tenant_too_small_for_the_plan_skips_items_instead_of_failing(
    model: TenantModel, users: int, groups: int, apps: int, planted: list[str]
) -> None:
    """Too few admins, ordinary users, plain security groups or apps: the items that need them are skipped, and
    every grant the surface keeps is written and expanded."""
    small = replace(
        model,
        users=tuple(u for u in model.users if not u.is_break_glass)[:users],
        groups=tuple(g for g in model.groups if g.security_enabled and not g.is_assignable_to_role)[:groups],
        service_principals=model.service_principals[:apps],
        administrative_units=(),
        eligibilities=(),
        assignments=(),
        unlisted_role_eligibilities=(),
    )
    roles = M365Roles(Context(small))
    names = {
        roles.role_id(system, name): name
        for system, catalogue in (("intune", INTUNE_ROLES), ("exchange", EXCHANGE_ROLES))
        for name in catalogue
    }
    written = [
        names[row["roleDefinitionId"]]
        for folder in (INTUNE, EXCHANGE)
        for row in roles.files[f"{folder}/roleAssignments.json"]
    ]
    assert written == planted
    assert {g.principal_id for g in roles.grants} <= {u.id for u in small.users} | set(roles.memberships) | {
        sp.id for sp in small.service_principals
    }
    assert all(roles.files[f"v1.0/groups/{group}/transitiveMembers.json"] for group in roles.memberships)
