"""Activations beyond directory roles in the demo tenant (docs/metrics.md, "Activations of groups and Azure
resources"): the PIM for Groups and Azure resource activations the generator's surfaces hold, never the files
written or warehouse code: those running at as_of and those that ended within the year the audit log keeps."""

from __future__ import annotations

from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.arm import AzureRbac
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

SURFACE_ACTIVATION_METRIC_IDS = ("pim_group_activations", "azure_activations")


def surface_activation_metrics(model: TenantModel) -> dict[str, int]:
    ctx = Context(model)
    # A person's activated membership or ownership (an app does not activate), with the end PIM granted.
    pim_groups = PimGroups(ctx)
    groups = sum(
        1
        for g in pim_groups.grants + pim_groups.past_activations
        if g.assignment_type == "activated" and g.principal_id in ctx.users and g.end is not None
    )
    return {"pim_group_activations": groups, "azure_activations": len(AzureRbac(ctx).activations)}
