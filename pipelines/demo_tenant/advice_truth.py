"""Advice from behaviour in the demo tenant (docs/metrics.md, "Advice from behaviour"): what fct_policy_advice must
advise, from the generator's own model (its assignments, eligibilities, policies and year of activation requests),
never from the files written or warehouse code.

Three kinds, in the order the doc gives them:
- convert_standing_to_eligible: a user's standing access row (active permanent, active time-bound, outside PIM) on a
  privileged role, break-glass accounts aside; converting it takes one from standing_privileged_access;
- remove_stale_eligibility: a stale eligibility (the stale_eligibility alert's rule) on a privileged role; removing
  it takes one from privileged_access_eligible;
- lower_max_activation: a role whose ended activations, enough of them, used at most a share of its maximum
  activation (the percentile of the durations used, nearest rank, rounded up to whole hours); lowering it to that
  takes one from role_compliance_failures when the current maximum fails the tier's and the advised one does not.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pipelines.demo_tenant import programme
from pipelines.demo_tenant.clock import DAY, HOUR, Instant
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, Outcome, PrincipalType, TenantModel

CONVERT_STANDING = "convert_standing_to_eligible"
REMOVE_STALE_ELIGIBILITY = "remove_stale_eligibility"
LOWER_MAX_ACTIVATION = "lower_max_activation"
ADVICE_KINDS = (CONVERT_STANDING, REMOVE_STALE_ELIGIBILITY, LOWER_MAX_ACTIVATION)
ADVICE_METRIC_IDS = tuple(f"advice_{kind}" for kind in ADVICE_KINDS)

Row = dict[str, Any]


def policy_advice(model: TenantModel, history: Iterable[ActivationRequest]) -> tuple[dict[str, int], list[Row]]:
    """(the advice_* headline metrics, the rows fct_policy_advice must hold, in a stable order)."""
    history = list(history)
    rows = [*_convert_standing(model), *_remove_stale(model, history), *_lower_max_activation(model, history)]
    metrics = {f"advice_{kind}": sum(1 for row in rows if row["advice_kind"] == kind) for kind in ADVICE_KINDS}
    return metrics, sorted(rows, key=_order)


def _order(row: Row) -> tuple[str, str, str, str]:
    return row["advice_kind"], row["role_definition_id"], row["principal_id"] or "", row["directory_scope_id"] or ""


def _convert_standing(model: TenantModel) -> list[Row]:
    privileged = {role.id for role in model.roles if role.counts_as_privileged}
    break_glass = {u.id for u in model.users if u.is_break_glass}
    found: set[tuple[str, str, str, str]] = set()
    for a in model.assignments:
        if a.kind is AssignmentKind.ACTIVATED or a.principal_type is not PrincipalType.USER:
            continue
        if a.role_id not in privileged or a.principal_id in break_glass:
            continue
        if a.kind is AssignmentKind.OUTSIDE_PIM:
            state = "outside_pim"
        else:
            state = "active_permanent" if a.end is None else "active_time_bound"
        found.add((a.principal_id, a.role_id, a.directory_scope_id, state))
    return [
        _row(CONVERT_STANDING, principal, role, scope, "standing_privileged_access", -1, access_state=state)
        for principal, role, scope, state in found
    ]


def _remove_stale(model: TenantModel, history: list[ActivationRequest]) -> list[Row]:
    privileged = {role.id for role in model.roles if role.counts_as_privileged}
    as_of = model.tenant.as_of
    last_activated: dict[tuple[str, str], Instant] = {}
    for r in history:
        if r.completed_at is not None and r.failure_reason is None and r.completed_at <= as_of:
            key = (r.principal_id, r.role_id)
            last_activated[key] = max(last_activated.get(key, r.completed_at), r.completed_at)
    stale = {
        (e.principal_id, e.role_id, e.directory_scope_id)
        for e in programme.stale_eligibility_grants(model, history)
        if e.role_id in privileged
    }
    rows = []
    for principal, role, scope in stale:
        last = last_activated.get((principal, role))
        days = None if last is None else (as_of - last) // DAY
        rows.append(
            _row(
                REMOVE_STALE_ELIGIBILITY,
                principal,
                role,
                scope,
                "privileged_access_eligible",
                -1,
                access_state="eligible",
                days_since_last_activation=days,
            )
        )
    return rows


def used_duration(request: ActivationRequest) -> Instant | None:
    """How long an activation was held: from its start to the holder's deactivation or its expiry; None while it
    runs (or when it never started)."""
    if request.outcome is not Outcome.ACTIVATED or request.completed_at is None:
        return None
    ended = request.deactivation.completed_at if request.deactivation is not None else request.ran_out_at
    return None if ended is None else ended - request.completed_at


def nearest_rank(values: list[Instant], percentile: float) -> Instant:
    """The smallest value at least `percentile` of the values are at or below (DuckDB's quantile_disc)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(percentile * len(ordered)), 1) - 1]


def _lower_max_activation(model: TenantModel, history: list[ActivationRequest]) -> list[Row]:
    used: dict[str, list[Instant]] = defaultdict(list)
    for r in history:
        duration = used_duration(r)
        if duration is not None:
            used[r.role_id].append(duration)
    tiers = {role.id: role.tier for role in model.roles}
    rows = []
    for policy in model.policies:
        durations = used.get(policy.role_id, [])
        if len(durations) < programme.ADVICE_MIN_ACTIVATIONS:
            continue
        percentile = nearest_rank(durations, programme.ADVICE_DURATION_PERCENTILE)
        advised_hours = max(1, math.ceil(percentile / HOUR))
        if advised_hours * HOUR > programme.ADVICE_MAX_ACTIVATION_SHARE * policy.max_activation:
            continue
        tier = tiers[policy.role_id]
        lowered = replace(policy, max_activation=advised_hours * HOUR)
        fixes = "max_activation" in programme.failed_rules(policy, tier) and "max_activation" not in (
            programme.failed_rules(lowered, tier)
        )
        rows.append(
            _row(
                LOWER_MAX_ACTIVATION,
                None,
                policy.role_id,
                None,
                "role_compliance_failures",
                -1 if fixes else 0,
                activations_considered=len(durations),
                percentile_used_seconds=percentile / 1000,
                current_max_activation_hours=policy.max_activation / HOUR,
                advised_max_activation_hours=advised_hours,
            )
        )
    return rows


def _row(
    kind: str,
    principal_id: str | None,
    role_id: str,
    scope: str | None,
    effect_metric: str,
    effect: int,
    **evidence: Any,
) -> Row:
    return {
        "advice_kind": kind,
        "principal_id": principal_id,
        "role_definition_id": role_id,
        "directory_scope_id": scope,
        "effect_metric_name": effect_metric,
        "effect_value": effect,
        **evidence,
    }
