"""Expiring access and deactivations in the demo tenant (docs/metrics.md, "Expiring access and deactivations"),
from the generator's model: its eligibilities and assignments, the ARM surface's grants, the PIM for Groups
grants, and the year of activation requests. Never from the files written or warehouse code."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.demo_tenant.clock import DAY, Instant
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, Outcome, TenantModel
from pipelines.demo_tenant.policy_truth import group_tiers
from pipelines.demo_tenant.programme import EXPIRING_HORIZON_DAYS
from pipelines.demo_tenant.surfaces.arm import TIERS, AzureRbac
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

LIFECYCLE_METRIC_IDS = ("privileged_access_expiring", "self_deactivation_rate")
PRIVILEGED_TIER = 1


def expiring_access(model: TenantModel) -> int:
    """Access rows on privileged roles (directory, Azure, PIM for Groups) that end within the horizon: eligible or
    time-bound active, never an activation. A directory access row is one (principal, role, scope, state), ending
    at its latest end (never, if any of its grants is permanent)."""
    as_of = model.tenant.as_of

    def expiring(end: Instant | None) -> bool:
        return end is not None and as_of < end <= as_of + EXPIRING_HORIZON_DAYS * DAY

    privileged = {role.id for role in model.roles if role.counts_as_privileged}
    rows: dict[tuple[str, str, str, str], list[Instant | None]] = {}
    for e in model.current_eligibilities():
        rows.setdefault((e.principal_id, e.role_id, e.directory_scope_id, "eligible"), []).append(e.end)
    for a in model.assignments:
        if a.kind is AssignmentKind.ASSIGNED and a.end is not None:
            rows.setdefault((a.principal_id, a.role_id, a.directory_scope_id, "active_time_bound"), []).append(a.end)
    directory = sum(
        1
        for (_, role, _, _), ends in rows.items()
        if role in privileged and None not in ends and expiring(max(e for e in ends if e is not None))
    )

    ctx = Context(model)
    rbac = AzureRbac(ctx)
    azure = sum(
        1
        for g in rbac.grants
        if g.state in ("eligible", "active_time_bound") and TIERS[g.role] <= PRIVILEGED_TIER and expiring(g.end)
    )
    tiers = group_tiers(model, rbac)
    groups = sum(
        1
        for g in PimGroups(ctx).grants
        if g.assignment_type in (None, "assigned") and tiers.get(g.group_id, 2) <= PRIVILEGED_TIER and expiring(g.end)
    )
    return directory + azure + groups


def self_deactivation_rate(history: Iterable[ActivationRequest]) -> float | None:
    """Of the activations that ended by the instant (the holder deactivated them, or they ran out), the share the
    holder ended early themself."""
    activated = [r for r in history if r.outcome is Outcome.ACTIVATED]
    deactivated = sum(1 for r in activated if r.deactivation is not None)
    ended = sum(1 for r in activated if r.deactivation is not None or r.ran_out_at is not None)
    return deactivated / ended if ended else None


def lifecycle_metrics(model: TenantModel, history: list[ActivationRequest]) -> dict[str, int | float | None]:
    return {
        "privileged_access_expiring": expiring_access(model),
        "self_deactivation_rate": self_deactivation_rate(history),
    }
