"""Advice from behaviour in the demo tenant (docs/metrics.md, "Advice from behaviour"): what fct_policy_advice must
advise, from the generator's own model (its assignments, eligibilities, policies and year of activation requests),
never from the files written or warehouse code.

Six kinds, in the order the doc gives them:
- convert_standing_to_eligible: a user's standing access row (active permanent, active time-bound, outside PIM) on a
  privileged role, break-glass accounts aside; converting it takes one from standing_privileged_access;
- remove_stale_eligibility: a stale eligibility (the stale_eligibility alert's rule) on a privileged role; removing
  it takes one from privileged_access_eligible;
- lower_max_activation: a role whose ended activations, enough of them, used at most a share of its maximum
  activation (the percentile of the durations used, nearest rank, rounded up to whole hours); lowering it to that
  takes one from role_compliance_failures when the current maximum fails the tier's and the advised one does not;
- add_approval: a tier-0 role whose policy lets it be activated without approval: one less
  tier0_roles_without_approval;
- drop_approval: a role no tier requirement asks approval of, whose approvers decided enough requests and approved
  nearly all of them; approval_rate moves by what its decisions weigh in it (rounded to 4 decimals);
- lesser_role: each tier-0 role a user flagged tier0_only_lesser_tasks holds, with the lesser role that allows most of
  their audited tasks in the window and the share it allows; "unknown" for a role whose work is audited outside
  Entra's directory log (Exchange, Intune, SharePoint, Teams): their tasks there are not seen, so never "unused".
  One less over_privileged_principals when that was the user's one reason and one tier-0 role.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pipelines.demo_tenant import programme
from pipelines.demo_tenant.clock import DAY, HOUR, Instant
from pipelines.demo_tenant.effective_privilege import PrivilegePath
from pipelines.demo_tenant.model import (
    ActivationRequest,
    AssignmentKind,
    Decision,
    Outcome,
    PrincipalType,
    TenantModel,
)
from pipelines.demo_tenant.over_privileged import TIER0_ONLY_LESSER_TASKS, OverPrivileged, audited_tasks

CONVERT_STANDING = "convert_standing_to_eligible"
REMOVE_STALE_ELIGIBILITY = "remove_stale_eligibility"
LOWER_MAX_ACTIVATION = "lower_max_activation"
ADD_APPROVAL = "add_approval"
DROP_APPROVAL = "drop_approval"
LESSER_ROLE = "lesser_role"
ADVICE_KINDS = (
    CONVERT_STANDING,
    REMOVE_STALE_ELIGIBILITY,
    LOWER_MAX_ACTIVATION,
    ADD_APPROVAL,
    DROP_APPROVAL,
    LESSER_ROLE,
)
# Roles whose work Entra's directory audit log does not record (the dbt seed roles_audited_elsewhere; a unit test
# keeps the two in step): Exchange, Intune, SharePoint and Teams log their admins' work in their own audit logs.
ROLES_AUDITED_ELSEWHERE = frozenset(
    {
        "29232cdf-9323-42fd-ade2-1d097af3e4de",  # Exchange Administrator
        "31392ffb-586c-42d1-9346-e59415a2cc4e",  # Exchange Recipient Administrator
        "3a2c62db-5318-420d-8d74-23affee5d9d5",  # Intune Administrator
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
        "69091246-20e8-4a56-aa4d-066075b2a7a8",  # Teams Administrator
    }
)
FITS_ONE_ROLE, NEEDS_SEVERAL_ROLES, UNKNOWN = "fits_one_role", "needs_several_roles", "unknown"
ADVICE_METRIC_IDS = tuple(f"advice_{kind}" for kind in ADVICE_KINDS)

Row = dict[str, Any]


def policy_advice(
    model: TenantModel,
    history: Iterable[ActivationRequest],
    paths: Iterable[PrivilegePath],
    over_privileged: Iterable[OverPrivileged],
) -> tuple[dict[str, int], list[Row]]:
    """(the advice_* headline metrics, the rows fct_policy_advice must hold, in a stable order). `paths` are the
    effective privilege paths on every role, `over_privileged` the rows of over_privileged.py."""
    history = list(history)
    rows = [
        *_convert_standing(model),
        *_remove_stale(model, history),
        *_lower_max_activation(model, history),
        *_approval(model, history),
        *_lesser_role(model, history, paths, over_privileged),
    ]
    metrics = {
        f"advice_{kind}": sum(
            1 for row in rows if row["advice_kind"] == kind and row.get("lesser_role_verdict") != UNKNOWN
        )
        for kind in ADVICE_KINDS
    }
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


def _approval(model: TenantModel, history: list[ActivationRequest]) -> list[Row]:
    requests: dict[str, int] = defaultdict(int)
    decided: dict[str, int] = defaultdict(int)
    approved: dict[str, int] = defaultdict(int)
    for r in history:
        requests[r.role_id] += 1
        if r.decision is not None:
            decided[r.role_id] += 1
            approved[r.role_id] += r.decision is Decision.APPROVED
    all_decided, all_approved = sum(decided.values()), sum(approved.values())
    tiers = {role.id: role.tier for role in model.roles}
    rows = []
    for policy in model.policies:
        role, tier = policy.role_id, tiers[policy.role_id]
        evidence = {
            "activation_requests": requests[role],
            "approval_decisions": decided[role],
            "approved_decisions": approved[role],
        }
        if tier == 0 and not policy.approval_required:
            rows.append(_row(ADD_APPROVAL, None, role, None, "tier0_roles_without_approval", -1, **evidence))
        required = programme.TIER_REQUIREMENTS[programme.tier_name(tier)].get("approval_required", False)
        if (
            policy.approval_required
            and not required
            and tier == 2
            and decided[role] >= programme.ADVICE_MIN_DECISIONS
            and approved[role] >= programme.ADVICE_DROP_APPROVAL_MIN_RATE * decided[role]
        ):
            left = all_decided - decided[role]
            effect = round((all_approved - approved[role]) / left - all_approved / all_decided, 4) if left else None
            rows.append(_row(DROP_APPROVAL, None, role, None, "approval_rate", effect, **evidence))
    return rows


def _lesser_role(
    model: TenantModel,
    history: list[ActivationRequest],
    paths: Iterable[PrivilegePath],
    over_privileged: Iterable[OverPrivileged],
) -> list[Row]:
    reasons: dict[str, set[str]] = defaultdict(set)
    for flagged in over_privileged:
        reasons[flagged.principal_id].add(flagged.reason)
    tiers = {role.id: role.tier for role in model.roles}
    held: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if path.is_holder and tiers.get(path.role_id) == 0:
            held[path.principal_id].add(path.role_id)
    as_of = model.tenant.as_of
    tasks = audited_tasks(model, history, as_of - programme.STALE_ELIGIBILITY_DAYS * DAY, as_of)
    rows = []
    for user, user_reasons in reasons.items():
        if TIER0_ONLY_LESSER_TASKS not in user_reasons:
            continue
        counts: dict[str, int] = defaultdict(int)
        for _, least_role in tasks[user]:
            counts[least_role] += 1
        best = min(counts, key=lambda role: (-counts[role], role))
        done = len(tasks[user])
        for role in held[user]:
            if role in ROLES_AUDITED_ELSEWHERE:
                verdict, lesser, share = UNKNOWN, None, None
            else:
                verdict = FITS_ONE_ROLE if counts[best] == done else NEEDS_SEVERAL_ROLES
                lesser, share = best, counts[best] / done
            alone = user_reasons == {TIER0_ONLY_LESSER_TASKS} and len(held[user]) == 1
            rows.append(
                _row(
                    LESSER_ROLE,
                    user,
                    role,
                    None,
                    "over_privileged_principals",
                    -1 if alone and verdict != UNKNOWN else 0,
                    lesser_role_verdict=verdict,
                    lesser_role_template_id=lesser,
                    audited_tasks=done,
                    covered_share=share,
                )
            )
    return rows


def _row(
    kind: str,
    principal_id: str | None,
    role_id: str,
    scope: str | None,
    effect_metric: str,
    effect: float | None,
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
