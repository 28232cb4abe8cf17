"""The demo tenant's programme design, the failures planted against it, and the alerts and compliance failures
it must produce.

The generator writes `design.yaml` beside the tenant, so the warehouse judges the tenant against a known design.
Everything here is computed from the model, never from the written files or warehouse code: the end-to-end tests
compare the warehouse's `fct_alerts` and `fct_role_compliance` with these lists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.access_changes import AccessChanges
from pipelines.demo_tenant.clock import DAY, HOUR, iso
from pipelines.demo_tenant.model import (
    ActivationRequest,
    AssignmentKind,
    Eligibility,
    RolePolicy,
    TenantModel,
    User,
)

TIER_NAMES = ("tier0", "tier1", "tier2")

# What each tier requires, in the words of design/default.yaml (pim-rules.md section (c)).
TIER_REQUIREMENTS: dict[str, dict[str, Any]] = {
    "tier0": {
        "approval_required": True,
        "min_approvers": 2,
        "mfa_on_activation": True,
        "justification_required": True,
        "ticket_required": True,
        "max_activation": "PT8H",
        "permanent_eligibility_allowed": False,
        "min_activation_notification_recipients": 1,
    },
    "tier1": {"mfa_on_activation": True, "justification_required": True, "max_activation": "PT12H"},
    "tier2": {"mfa_on_activation": True},
}
_MAX_ACTIVATION = {"tier0": 8 * HOUR, "tier1": 12 * HOUR}
BUSINESS_START_HOUR, BUSINESS_END_HOUR = 8, 19  # local time, Monday to Friday
REPEATED_ACTIVATION_WINDOW, REPEATED_ACTIVATION_COUNT = HOUR, 2
STALE_ELIGIBILITY_DAYS = 30
# An after-hours activation is alerted unless the person made this many others after hours in the baseline before it
# (design/default.yaml's defaults, docs/alerts.md).
AFTER_HOURS_BASELINE, AFTER_HOURS_USUAL_COUNT = 30 * DAY, 1
STALE_SIGN_IN_DAYS = 30  # pim-rules.md rule 14: no sign-in for this many days (PIM's StaleSignIn alert, P30D)
# pim-rules.md rule 13: more than this many privileged-role additions by one admin inside the window.
MEMBERSHIP_BURST_WINDOW, MEMBERSHIP_BURST_COUNT = HOUR, 4
ACCESS_REVIEW_MAX_DAYS = 31  # rule 15: monthly or more often, so the quarterly reviews are overdue
EXPIRING_HORIZON_DAYS = 30  # eligibilities and assignments ending within this many days are expiring
# Advice from behaviour (design/default.yaml's defaults): a role's maximum activation is advised lower when, over at
# least this many ended activations, this percentile of the durations used, in whole hours rounded up, is at most
# this share of the maximum.
ADVICE_MIN_ACTIVATIONS, ADVICE_DURATION_PERCENTILE, ADVICE_MAX_ACTIVATION_SHARE = 10, 0.95, 0.5
# Approval is advised dropped on a role no tier requires it of when this many decisions approved this share.
ADVICE_MIN_DECISIONS, ADVICE_DROP_APPROVAL_MIN_RATE = 10, 0.98
# Tighter than PIM's sample 10 %: an organisation that wants the GA share of its admins to stay small.
TOO_MANY_GA_COUNT, TOO_MANY_GA_SHARE = 3, 0.02

# The compliance rules of fct_role_compliance, in the order docs/metrics.md lists them.
COMPLIANCE_RULES = (
    "approval_required",
    "min_approvers",
    "mfa_on_activation",
    "justification_required",
    "ticket_required",
    "max_activation",
    "permanent_eligibility_allowed",
    "min_activation_notification_recipients",
)


def tier_name(tier: int) -> str:
    return TIER_NAMES[tier]


def design_document(model: TenantModel) -> dict[str, Any]:
    """The design.yaml of this tenant: the default requirements, the generator's own tier for every role."""
    zones = dict(catalog.COUNTRY_TIME_ZONES)
    departments = [d.name for d in catalog.DEPARTMENTS]
    baseline = model.tenant.window_start
    return {
        "version": 1,
        "tiers": TIER_REQUIREMENTS,
        "role_tiers": {role.id: tier_name(role.tier) for role in model.roles},
        "break_glass_accounts": [u.user_principal_name for u in model.users if u.is_break_glass],
        "business_hours": {
            "start": f"{BUSINESS_START_HOUR:02d}:00",
            "end": f"{BUSINESS_END_HOUR:02d}:00",
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "default_time_zone": catalog.HEADQUARTERS.time_zone,
            "time_zones_by_usage_location": zones,
        },
        "rollout": {
            "baseline_date": iso(baseline)[:10],
            "waves": [
                {"name": "wave-1-it", "starts_on": iso(baseline + 30 * DAY)[:10], "departments": departments[:2]},
                {"name": "wave-2-rest", "starts_on": iso(baseline + 120 * DAY)[:10], "departments": departments[2:]},
            ],
        },
        "alert_thresholds": {
            "repeated_activation": {"window": "PT1H", "count": REPEATED_ACTIVATION_COUNT},
            "stale_eligibility": {"days": STALE_ELIGIBILITY_DAYS},
            "too_many_global_admins": {"count": TOO_MANY_GA_COUNT, "share": TOO_MANY_GA_SHARE},
            "membership_burst": {"window": "PT1H", "count": MEMBERSHIP_BURST_COUNT},
            "after_hours": {"baseline": f"P{AFTER_HOURS_BASELINE // DAY}D", "usual_count": AFTER_HOURS_USUAL_COUNT},
            "stale_sign_in": {"days": STALE_SIGN_IN_DAYS},
        },
        "access_reviews": {"max_days_since_review": ACCESS_REVIEW_MAX_DAYS},
        "expiring_access": {"horizon_days": EXPIRING_HORIZON_DAYS},
        "advice": {
            "min_activations": ADVICE_MIN_ACTIVATIONS,
            "duration_percentile": ADVICE_DURATION_PERCENTILE,
            "max_activation_share": ADVICE_MAX_ACTIVATION_SHARE,
            "min_decisions": ADVICE_MIN_DECISIONS,
            "drop_approval_min_rate": ADVICE_DROP_APPROVAL_MIN_RATE,
        },
    }


# -- compliance ------------------------------------------------------------------------------------------------


def failed_rules(policy: RolePolicy, tier: int) -> list[str]:
    """The compliance rules a policy fails for a role of `tier`, against TIER_REQUIREMENTS."""
    wanted = TIER_REQUIREMENTS[tier_name(tier)]
    actual = {
        "approval_required": policy.approval_required,
        "min_approvers": policy.listed_approver_count if policy.approval_required else 0,
        "mfa_on_activation": policy.requires_mfa,
        "justification_required": policy.justification_on_activation,
        "ticket_required": policy.ticketing_on_activation,
        "max_activation": policy.max_activation,
        "permanent_eligibility_allowed": not policy.eligibility_expiration_required,
        "min_activation_notification_recipients": len(policy.activation_alert_recipients),
    }
    failed = []
    for rule in COMPLIANCE_RULES:
        if rule not in wanted:
            continue
        expected = wanted[rule]
        if rule in ("min_approvers", "min_activation_notification_recipients"):
            ok = actual[rule] >= expected
        elif rule == "max_activation":
            ok = actual[rule] <= _MAX_ACTIVATION[tier_name(tier)]
        elif rule == "permanent_eligibility_allowed":
            ok = expected or not actual[rule]
        else:  # a required setting must be on; one the design does not require may be either
            ok = actual[rule] or not expected
        if not ok:
            failed.append(rule)
    return failed


def plant_compliance_failures(policies: Sequence[RolePolicy], tiers: dict[str, int]) -> list[RolePolicy]:
    """Makes sure each compliance rule fails on at least one role, whatever the seed.

    Where no role fails a rule by chance, the first eligible role (by id, so no randomness is spent) is relaxed
    the way real tenants drift: approval switched off, MFA dropped, an 24-hour activation, and so on.
    """
    policies = list(policies)
    protected = {catalog.GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR}
    relax = {
        "approval_required": (0, lambda p: replace(p, approval_required=False, approver_ids=())),
        "min_approvers": (0, lambda p: replace(p, approval_required=False, approver_ids=())),
        "mfa_on_activation": (1, lambda p: replace(p, mfa_on_activation=False, authentication_context=None)),
        "justification_required": (1, lambda p: replace(p, justification_on_activation=False)),
        "ticket_required": (0, lambda p: replace(p, ticketing_on_activation=False)),
        "max_activation": (1, lambda p: replace(p, max_activation=24 * HOUR)),
        "permanent_eligibility_allowed": (0, lambda p: replace(p, eligibility_expiration_required=False)),
        "min_activation_notification_recipients": (0, lambda p: replace(p, activation_alert_recipients=())),
    }
    for rule, (tier, change) in relax.items():
        if any(rule in failed_rules(p, tiers[p.role_id]) for p in policies):
            continue
        index = min(
            (i for i, p in enumerate(policies) if tiers[p.role_id] == tier and p.role_id not in protected),
            key=lambda i: policies[i].role_id,
        )
        policies[index] = change(policies[index])
    return policies


def compliance_failures(model: TenantModel) -> list[dict[str, str]]:
    tiers = {role.id: role.tier for role in model.roles}
    rows = [
        {"role_definition_id": p.role_id, "rule": rule}
        for p in model.policies
        for rule in failed_rules(p, tiers[p.role_id])
    ]
    return sorted(rows, key=lambda row: (row["role_definition_id"], row["rule"]))


# -- alerts -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    rule: str
    principal_id: str | None
    role_definition_id: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"rule": self.rule, "principal_id": self.principal_id, "role_definition_id": self.role_definition_id}


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_after_hours(at: int, time_zone: str) -> bool:
    local = datetime.fromtimestamp(at / 1000, _zone(time_zone))
    return local.weekday() >= 5 or not BUSINESS_START_HOUR <= local.hour < BUSINESS_END_HOUR


def verdict_time_zone(user: User) -> str:
    """The zone an after-hours verdict should use: the user's own when their mailbox names a zone (Windows or
    IANA), else the design's zone for their country, else its default. A custom zone is not trusted (Graph's docs
    and its payloads disagree on the sign of its bias), so it falls back like no mailbox.
    """
    if user.mailbox_time_zone is not None and user.mailbox_time_zone != catalog.CUSTOM_TIME_ZONE:
        return user.time_zone
    return catalog.COUNTRY_TIME_ZONES.get(user.usage_location, catalog.HEADQUARTERS.time_zone)


def stale_eligibilities(model: TenantModel, requests: Sequence[ActivationRequest]) -> list[tuple[str, str]]:
    """(user, role) of every current eligibility held since before the stale window and not activated in it,
    break-glass accounts aside: the stale_eligibility alert, and over-privileged principals' eligible_never_activated.
    An eligibility on a role the catalogue no longer lists is held all the same, and never activated: stale too.
    """
    return [(e.principal_id, e.role_id) for e in stale_eligibility_grants(model, requests)]


def stale_eligibility_grants(model: TenantModel, requests: Sequence[ActivationRequest]) -> list[Eligibility]:
    """The eligibilities of stale_eligibilities themselves, with their scope and start (advice_truth.py)."""
    users = {u.id: u for u in model.users}
    break_glass = {u.id for u in model.users if u.is_break_glass}
    # The window ends at the evaluation instant, the instant the tenant is frozen at.
    cutoff = model.tenant.as_of - STALE_ELIGIBILITY_DAYS * DAY
    recently_active = {
        (r.principal_id, r.role_id)
        for r in requests
        if r.completed_at is not None and r.failure_reason is None and r.completed_at > cutoff
    }
    return [
        e
        for e in model.written_eligibilities()
        if e.principal_id in users
        and e.principal_id not in break_glass
        and e.start <= cutoff
        and (e.principal_id, e.role_id) not in recently_active
    ]


def expected_alerts(
    model: TenantModel, requests: Sequence[ActivationRequest], privileged_principals: set[str], global_admins: set[str]
) -> list[Alert]:
    """The alerts fct_alerts must raise. The head-counts are given as docs/metrics.md counts them (groups
    expanded, owners not counted), by ground_truth."""
    users = {u.id: u for u in model.users}
    policies = {p.role_id: p for p in model.policies}
    break_glass = {u.id for u in model.users if u.is_break_glass}
    alerts: list[Alert] = []

    activations = [r for r in requests if r.completed_at is not None and r.failure_reason is None]
    # A person's after-hours activations in time order: one is usual, and not alerted, when the one
    # AFTER_HOURS_USUAL_COUNT places before it is inside the baseline.
    after_hours_by_person: dict[str, list[ActivationRequest]] = defaultdict(list)
    for r in sorted(activations, key=lambda r: (r.completed_at or 0, r.request_id)):
        assert r.completed_at is not None
        if is_after_hours(r.completed_at, verdict_time_zone(users[r.principal_id])):
            after_hours_by_person[r.principal_id].append(r)
    for person in after_hours_by_person.values():
        for index, r in enumerate(person):
            assert r.completed_at is not None
            earlier = person[index - AFTER_HOURS_USUAL_COUNT] if index >= AFTER_HOURS_USUAL_COUNT > 0 else None
            if earlier is None or earlier.completed_at < r.completed_at - AFTER_HOURS_BASELINE:
                alerts.append(Alert("after_hours_activation", r.principal_id, r.role_id))

    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in activations:
        assert r.completed_at is not None
        by_pair[(r.principal_id, r.role_id)].append(r.completed_at)
    for (principal, role), times in by_pair.items():
        times.sort()
        previous_count = 0
        for index, at in enumerate(times):
            count = sum(1 for t in times[: index + 1] if t >= at - REPEATED_ACTIVATION_WINDOW)
            if count >= REPEATED_ACTIVATION_COUNT > previous_count:
                alerts.append(Alert("repeated_activation", principal, role))
            previous_count = count

    for a in model.assignments:
        if a.kind is AssignmentKind.OUTSIDE_PIM:
            alerts.append(Alert("assignment_outside_pim", a.principal_id, a.role_id))

    share = len(global_admins) / len(privileged_principals) if privileged_principals else 0.0
    if len(global_admins) > TOO_MANY_GA_COUNT and share > TOO_MANY_GA_SHARE:
        alerts.append(Alert("too_many_global_admins", None, catalog.GLOBAL_ADMINISTRATOR))

    for role in model.roles:
        if role.tier <= 1 and not policies[role.id].requires_mfa:
            alerts.append(Alert("no_mfa_on_activation", None, role.id))

    for principal_id, role_id in stale_eligibilities(model, requests):
        alerts.append(Alert("stale_eligibility", principal_id, role_id))

    for event in model.outside_pim_events:
        if event.assignment.created_by in break_glass:
            alerts.append(Alert("break_glass_used", event.assignment.created_by, event.assignment.role_id))

    alerts += membership_bursts(model)
    return sorted(alerts, key=lambda a: (a.rule, a.principal_id or "", a.role_definition_id or ""))


def membership_bursts(model: TenantModel) -> list[Alert]:
    """One alert per admin and burst: the addition that takes their count inside the window above the threshold.

    The additions are the outside-PIM events and the eligibilities and assignments admins made through PIM
    (access_changes.py).
    """
    by_admin: dict[str, list[int]] = defaultdict(list)
    for event in model.outside_pim_events:
        if event.assignment.created_by is not None:
            by_admin[event.assignment.created_by].append(event.at)
    for admin, at in AccessChanges(model).additions_by_admin():
        by_admin[admin].append(at)
    alerts = []
    for admin, times in by_admin.items():
        times.sort()
        previous_count = 0
        for index, at in enumerate(times):
            count = sum(1 for t in times[: index + 1] if t >= at - MEMBERSHIP_BURST_WINDOW)
            if count > MEMBERSHIP_BURST_COUNT >= previous_count:
                alerts.append(Alert("membership_burst", admin, None))
            previous_count = count
    return alerts


def alert_counts(alerts: Iterable[Alert]) -> Counter[str]:
    return Counter(alert.rule for alert in alerts)
