"""The compliance matrix beyond directory roles in the demo tenant (docs/metrics.md, "Compliance matrix"): each
Azure role's PIM policy at each subscription and each onboarded group's member and owner policy, judged by
programme.failed_rules against the tier the generator's model gives them, never from the files written.

An Azure role's tier is the ARM surface's own (surfaces/arm.py TIERS). A group's is the highest tier of the roles
it grants (the directory and Azure roles it holds, any state), tier 2 when it grants none."""

from __future__ import annotations

from pipelines.demo_tenant import programme
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.arm import TIERS, AzureRbac
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

POLICY_METRIC_IDS = ("azure_role_compliance_failures", "pim_group_compliance_failures")
LOWEST_TIER = 2


def group_tiers(model: TenantModel, rbac: AzureRbac) -> dict[str, int]:
    """principal -> the highest tier (lowest number) of the directory and Azure roles it holds now, any state: for a
    group, the tier of what it grants."""
    role_tiers = {role.id: role.tier for role in model.roles}
    held = [(e.principal_id, e.role_id) for e in model.current_eligibilities()]
    held += [(a.principal_id, a.role_id) for a in model.assignments]
    granted: dict[str, int] = {}
    for principal, role in held:
        if role in role_tiers:
            granted[principal] = min(granted.get(principal, LOWEST_TIER), role_tiers[role])
    for grant in rbac.grants:
        granted[grant.principal_id] = min(granted.get(grant.principal_id, LOWEST_TIER), TIERS[grant.role])
    return granted


def policy_metrics(model: TenantModel) -> dict[str, int]:
    ctx = Context(model)
    rbac = AzureRbac(ctx)
    azure_failures = sum(len(programme.failed_rules(policy, TIERS[role])) for _, role, policy in rbac.policies)
    granted = group_tiers(model, rbac)
    group_failures = sum(
        len(programme.failed_rules(policy, granted.get(group.id, LOWEST_TIER)))
        for group, _, policy in PimGroups(ctx).policies
    )
    return {"azure_role_compliance_failures": azure_failures, "pim_group_compliance_failures": group_failures}
