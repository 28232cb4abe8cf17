"""Intune's and Exchange's RBAC in the demo tenant: the ground truth's rows and metrics against a recount from the
written files, done with plain Python and the words of docs/metrics.md ("Other role systems")."""

from __future__ import annotations

from typing import Any

from pipelines.demo_tenant.effective_privilege import OWNER

from .reading import Tenant
from .test_effective_privilege import paths_from_files

INTUNE = "beta/roleManagement/deviceManagement"
EXCHANGE = "beta/roleManagement/exchange"


def rows_from_files(tenant: Tenant) -> list[dict[str, Any]]:
    """One row per system, assignment, principal (a group's users and service principals instead of the group), role
    and scope."""
    groups = {g["id"] for g in tenant.collection("v1.0/groups.json")}

    def reached(principal: str) -> list[tuple[str, str | None]]:
        if principal not in groups:
            return [(principal, None)]
        members = tenant.collection(f"v1.0/groups/{principal}/transitiveMembers.json")
        return [(m["id"], principal) for m in members if m["@odata.type"] != "#microsoft.graph.group"]

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
    assert any(
        a["principalId"].startswith("/ServicePrincipals/")
        for a in tenant.collection(f"{EXCHANGE}/roleAssignments.json")
    )
    assert {r["scope_id"] == "/" for r in rows} == {True, False}
    assert 0 < recounted["privileged_principals_with_m365_roles"] < len(holders["intune"] | holders["exchange"])
