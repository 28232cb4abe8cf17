"""Per-activation verdicts in the demo tenant (docs/metrics.md, "Per-activation verdicts"): each activation of a
directory role judged against its role's tier requirements, from the generator's own requests and design (never
the files written or warehouse code). MFA never fails here: the generator's audit rows say MFA true or nothing,
and nothing is unknown, not a failure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipelines.demo_tenant import programme
from pipelines.demo_tenant.model import ActivationRequest, Decision, Outcome, TenantModel

VERDICT_METRIC_IDS = ("activations_failing_tier_rules",)
# docs/metrics.md: a justification cites a ticket when it names a change, incident or request number.
TICKET = re.compile(r"\b([a-z]{2,}-\d+|(chg|inc|ritm|req|sr|task)\d+)\b", re.IGNORECASE)
_MAX_ACTIVATION = {"PT8H": 8 * 3600 * 1000, "PT12H": 12 * 3600 * 1000}


def failed_rule(request: ActivationRequest, tier: int) -> str | None:
    """The first rule of approval, justification, ticket, duration the activation fails for a role of `tier`."""
    wanted = programme.TIER_REQUIREMENTS[programme.tier_name(tier)]
    granted_end, started = request.granted_end, request.completed_at
    assert granted_end is not None and started is not None
    checks = (
        ("approval", "approval_required", request.decision is Decision.APPROVED),
        ("justification", "justification_required", bool(request.justification.strip())),
        ("ticket", "ticket_required", TICKET.search(request.justification) is not None),
        ("duration", "max_activation", granted_end - started <= _MAX_ACTIVATION.get(wanted.get("max_activation"), 0)),
    )
    for rule, requirement, ok in checks:
        if wanted.get(requirement) and not ok:
            return rule
    return None


def verdict_metrics(model: TenantModel, history: Iterable[ActivationRequest]) -> dict[str, int]:
    tiers = {role.id: role.tier for role in model.roles}
    failing = sum(
        1
        for r in history
        if r.outcome is Outcome.ACTIVATED and r.role_id in tiers and failed_rule(r, tiers[r.role_id]) is not None
    )
    return {"activations_failing_tier_rules": failing}
