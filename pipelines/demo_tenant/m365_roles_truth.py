"""Intune's and Exchange's RBAC in the demo tenant (docs/metrics.md, "Other role systems"): the inventory rows and
their headline metrics, computed from the surface's own grants (surfaces/m365_roles.py's `M365Grant`s) and its
model of who is inside each group (`memberships`), never from the files written or warehouse code.

A group's grant reaches each of its transitive members that is not a group, and the group itself holds nothing;
a group that reaches nobody (no members) keeps its grant as a row of its own, naming the group."""

from __future__ import annotations

from typing import Any

from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.m365_roles import EXCHANGE, INTUNE, M365Roles

M365_ROLE_METRIC_IDS = (
    "intune_role_principals",
    "exchange_role_principals",
    "privileged_principals_with_m365_roles",
)


def m365_role_rows(model: TenantModel) -> list[dict[str, Any]]:
    """fct_m365_role_assignments: one row per system, assignment, principal (groups expanded), role and scope."""
    roles = M365Roles(Context(model))
    groups = {g.id for g in model.groups}
    rows = []
    for grant in roles.grants:
        reached: list[tuple[str, str | None]] = []
        if grant.principal_id in groups:
            members = roles.memberships.get(grant.principal_id, [])
            reached = [(member, grant.principal_id) for member in members if member not in groups]
        reached = reached or [(grant.principal_id, None)]
        rows += [
            {
                "role_system": grant.system,
                "assignment_id": grant.assignment_id,
                "principal_id": principal,
                "via_group_id": via,
                "role_definition_id": grant.role,
                "scope_id": grant.scope,
            }
            for principal, via in reached
        ]
    key = ("role_system", "assignment_id", "principal_id", "scope_id")
    return sorted(rows, key=lambda row: tuple(row[k] for k in key))


def m365_role_metrics(model: TenantModel, rows: list[dict[str, Any]], privileged_holders: set[str]) -> dict[str, int]:
    """`privileged_holders`: the holders of a privileged Entra role by any path (privileged_principals'). Only users
    and service principals are counted."""
    directory = {u.id for u in model.users} | {sp.id for sp in model.service_principals}
    holders = {
        system: {r["principal_id"] for r in rows if r["role_system"] == system and r["principal_id"] in directory}
        for system in (INTUNE, EXCHANGE)
    }
    return {
        "intune_role_principals": len(holders[INTUNE]),
        "exchange_role_principals": len(holders[EXCHANGE]),
        "privileged_principals_with_m365_roles": len((holders[INTUNE] | holders[EXCHANGE]) & privileged_holders),
    }
