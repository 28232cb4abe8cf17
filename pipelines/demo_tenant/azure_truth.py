"""Azure RBAC and PIM for Azure resources in the demo tenant (docs/metrics.md, "Azure"): the Azure headline
metrics, computed from the ARM surface's own grants and groups (surfaces/arm.py's `AzureGrant`s), never from the
files written or warehouse code.

A principal holds an Azure role by the same paths as a directory role (effective_privilege.py): its own access
rows, and each membership of a role-assignable group (plain or PIM for Groups) combined with the group's rows.
Azure RBAC also reaches through any security group, nested ones included: the operators group's users are
holders of what the group holds."""

from __future__ import annotations

from pipelines.demo_tenant.effective_privilege import (
    ACTIVE,
    ELIGIBLE,
    STANDING_STATES,
    AccessRow,
    PrivilegePath,
    effective_privilege,
)
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.arm import ROLES, TIERS, AzureRbac
from pipelines.demo_tenant.surfaces.context import Context

AZURE_METRIC_IDS = (
    "azure_privileged_principals",
    "azure_control_plane_principals",
    "azure_standing_privileged_access",
)


def azure_access_rows(rbac: AzureRbac) -> set[AccessRow]:
    """(principal, role GUID, ARM scope, state): one per distinct grant, as docs/metrics.md counts access rows."""
    return {(g.principal_id, ROLES[g.role][0], g.scope, g.state) for g in rbac.grants}


def azure_paths(model: TenantModel, rbac: AzureRbac) -> set[PrivilegePath]:
    rows = azure_access_rows(rbac)
    paths = effective_privilege(model, rows)
    operators = rbac.operators[0].id
    members = [m for m in rbac.operator_members if m not in {g.id for g in model.groups}]
    for principal, role, scope, state in rows:
        if principal != operators:
            continue
        for member in members:
            paths.add(
                PrivilegePath(
                    member,
                    role,
                    scope,
                    "group_member",
                    operators,
                    state,
                    ELIGIBLE if state == ELIGIBLE else ACTIVE,
                    state in STANDING_STATES,
                )
            )
    return paths


PRIVILEGED_AZURE_ROLES = frozenset(ROLES[name][0] for name, tier in TIERS.items() if tier <= 1)


def azure_privileged_holder_paths(model: TenantModel, rbac: AzureRbac | None = None) -> list[PrivilegePath]:
    """The holder paths of privileged Azure roles (tiers 0 and 1): whom the sign-in and Conditional Access truths
    judge beside the holders of privileged directory roles."""
    rbac = rbac or AzureRbac(Context(model))
    return [path for path in azure_paths(model, rbac) if path.is_holder and path.role_id in PRIVILEGED_AZURE_ROLES]


def azure_metrics(model: TenantModel) -> dict[str, int]:
    rbac = AzureRbac(Context(model))
    privileged = PRIVILEGED_AZURE_ROLES
    control_plane = {ROLES[name][0] for name, tier in TIERS.items() if tier == 0}
    holders = azure_privileged_holder_paths(model, rbac)
    return {
        "azure_privileged_principals": len({path.principal_id for path in holders}),
        "azure_control_plane_principals": len({p.principal_id for p in holders if p.role_id in control_plane}),
        "azure_standing_privileged_access": sum(
            1 for _, role, _, state in azure_access_rows(rbac) if role in privileged and state in STANDING_STATES
        ),
    }
