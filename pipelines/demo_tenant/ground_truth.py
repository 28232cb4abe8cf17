"""Every headline metric of docs/metrics.md, computed from the generator's own model.

Never from the written JSON and never through warehouse code: the end-to-end tests compare the warehouse with
these numbers, so they must come from an independent path.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.demo_tenant import catalog, programme
from pipelines.demo_tenant.advice_truth import ADVICE_METRIC_IDS, policy_advice
from pipelines.demo_tenant.azure_truth import AZURE_METRIC_IDS, azure_metrics
from pipelines.demo_tenant.clock import iso
from pipelines.demo_tenant.daily_state import daily_trend
from pipelines.demo_tenant.effective_privilege import (
    ACTIVE,
    PrivilegePath,
    effective_privilege,
    head_count_by_path,
    principal_types,
)
from pipelines.demo_tenant.history import iter_activation_requests
from pipelines.demo_tenant.lifecycle_truth import LIFECYCLE_METRIC_IDS, lifecycle_metrics
from pipelines.demo_tenant.m365_roles_truth import M365_ROLE_METRIC_IDS, m365_role_metrics, m365_role_rows
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, Decision, TenantModel
from pipelines.demo_tenant.over_privileged import expected_over_privileged, over_privileged_metrics
from pipelines.demo_tenant.policy_truth import POLICY_METRIC_IDS, policy_metrics
from pipelines.demo_tenant.surface_activation_truth import SURFACE_ACTIVATION_METRIC_IDS, surface_activation_metrics
from pipelines.demo_tenant.surface_findings import SURFACE_METRICS, surface_findings
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.reviews import AccessReviews
from pipelines.demo_tenant.verdict_truth import VERDICT_METRIC_IDS, verdict_metrics

ELIGIBLE = "eligible"
ACTIVE_PERMANENT = "active_permanent"
ACTIVE_TIME_BOUND = "active_time_bound"
ACTIVATED = "activated"
OUTSIDE_PIM = "outside_pim"
STANDING_STATES = (ACTIVE_PERMANENT, ACTIVE_TIME_BOUND, OUTSIDE_PIM)
ROLLOUT_COLUMNS = (
    "standing_access",
    "eligible_access",
    "activated_access",
    "privileged_principals",
    "privileged_users",
    "privileged_service_principals",
    "eligible_only_principals",
    "principals_direct_active",
    "principals_direct_eligible",
    "principals_group_member",
    "principals_pim_group_member_eligible",
    "principals_pim_group_member_active",
    "group_owners",
)
REPEATED_WINDOW = programme.REPEATED_ACTIVATION_WINDOW  # the design.yaml the generator writes says PT1H

# The metrics that read access rows (privileged access, its principals, effective privilege).
PRIVILEGED_ACCESS_METRICS = (
    "privileged_access_eligible",
    "privileged_access_active_permanent",
    "privileged_access_active_time_bound",
    "privileged_access_activated",
    "privileged_access_outside_pim",
    "standing_privileged_access",
    "privileged_principals",
    "privileged_users",
    "privileged_service_principals",
    "eligible_only_principal_share",
)
PRIVILEGED_PRINCIPAL_METRICS = (
    "global_admins",
    "global_admin_users",
    "global_admin_service_principals",
    "global_admin_share",
    "privileged_guests",
    "privileged_synced_accounts",
)
EFFECTIVE_PRIVILEGE_METRICS = (
    "effective_active_privileged_principals",
    "group_only_privileged_principals",
)
METRIC_IDS = (
    *PRIVILEGED_ACCESS_METRICS,
    "activation_requests",
    "approval_rate",
    "median_approval_latency_seconds",
    *PRIVILEGED_PRINCIPAL_METRICS,
    "tier0_roles_without_approval",
    "role_compliance_failures",
    "alerts_raised",
    "over_privileged_principals",
    *EFFECTIVE_PRIVILEGE_METRICS,
    *POLICY_METRIC_IDS,
    "privileged_roles_without_access_review",
    "access_review_self_decisions",
    "access_review_late_decisions",
    "access_review_denials_not_applied",
    "activations_granted_shorter_than_requested",
    "reactivations_after_expiry",
    *AZURE_METRIC_IDS,
    *LIFECYCLE_METRIC_IDS,
    *VERDICT_METRIC_IDS,
    *SURFACE_ACTIVATION_METRIC_IDS,
    *SURFACE_METRICS,
    *M365_ROLE_METRIC_IDS,
    *ADVICE_METRIC_IDS,
)

Metric = int | float | None
AccessRow = tuple[str, str, str, str]  # (principal, role, directory scope, state)

# docs/metrics.md, "Unknown is not zero": the metrics an access row naming a role no catalogue knows leaves unknown
# when more than this share of access rows does (the design.yaml the generator writes keeps the default).
MAX_UNREADABLE_SHARE = 0.01
UNKNOWN_ROLE_METRICS = (
    *PRIVILEGED_ACCESS_METRICS,
    *PRIVILEGED_PRINCIPAL_METRICS,
    *EFFECTIVE_PRIVILEGE_METRICS,
    "privileged_principals_with_m365_roles",
    "alerts_raised",
    "stale_privileged_accounts",
    "tier0_applications",
    "tier0_application_owners",
    "pim_alert_disagreements",
    "privileged_users_without_mfa_policy",
    "break_glass_check_failures",
    "administrative_unit_scoped_share",
    "advice_convert_standing_to_eligible",
    "advice_remove_stale_eligibility",
    "advice_lesser_role",
)


@dataclass(frozen=True)
class GroundTruth:
    tenant_id: str
    seed: int
    size: str
    as_of: str
    metrics: Mapping[str, Metric]
    alerts: tuple[dict[str, str | None], ...] = ()
    compliance_failures: tuple[dict[str, str], ...] = ()
    over_privileged: tuple[dict[str, str], ...] = ()
    # Per quality check of fct_unreadable_inputs: (input rows, rows not understood).
    unreadable_inputs: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # fct_privileged_head_counts: {head_count, principal_type, path_kind, principals}, one per non-zero count.
    head_counts: tuple[dict[str, str | int], ...] = ()
    # fct_privileged_access_daily on the as_of day: one dict of counts per department.
    rollout: tuple[dict[str, str | int], ...] = ()
    # fct_access_trend_daily: per day of the year up to as_of, the privileged access rows held at its close.
    daily_trend: tuple[dict[str, str | int], ...] = ()
    # Sign-ins, applications and Microsoft's PIM alerts (surface_findings.py): the rows behind their metrics.
    surfaces: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "seed": self.seed,
            "size": self.size,
            "asOf": self.as_of,
            "metrics": dict(self.metrics),
            "alerts": list(self.alerts),
            "compliance_failures": list(self.compliance_failures),
            "over_privileged": list(self.over_privileged),
            "unreadable_inputs": {check: list(rows) for check, rows in self.unreadable_inputs.items()},
            "head_counts": list(self.head_counts),
            "rollout": list(self.rollout),
            "daily_trend": list(self.daily_trend),
            "surfaces": dict(self.surfaces),
        }


def access_rows(model: TenantModel) -> set[AccessRow]:
    """The distinct access rows of metrics.md at as_of, on every role."""
    rows = {(e.principal_id, e.role_id, e.directory_scope_id, ELIGIBLE) for e in model.current_eligibilities()}
    for a in model.assignments:
        if a.kind is AssignmentKind.ASSIGNED:
            state = ACTIVE_PERMANENT if a.end is None else ACTIVE_TIME_BOUND
        elif a.kind is AssignmentKind.ACTIVATED:
            state = ACTIVATED
        else:
            state = OUTSIDE_PIM
        rows.add((a.principal_id, a.role_id, a.directory_scope_id, state))
    return rows


def privileged_role_ids(model: TenantModel) -> set[str]:
    """The roles docs/metrics.md calls privileged: resolved tier tier0 or tier1 (never Microsoft's flag alone)."""
    return {role.id for role in model.roles if role.counts_as_privileged}


def compute_ground_truth(model: TenantModel) -> GroundTruth:
    privileged_roles = privileged_role_ids(model)
    every_row = access_rows(model)
    rows = [row for row in every_row if row[1] in privileged_roles]
    by_state = Counter(state for *_, state in rows)
    # Head-counts: holders by any path, groups expanded to their members, owners never counted.
    paths = effective_privilege(model, every_row)
    privileged_paths = [path for path in paths if path.role_id in privileged_roles]
    global_admin_paths = [path for path in paths if path.role_id == catalog.GLOBAL_ADMINISTRATOR]
    principals = {path.principal_id for path in privileged_paths if path.is_holder}
    standing = {path.principal_id for path in privileged_paths if path.is_holder and path.is_standing}
    global_admins = {path.principal_id for path in global_admin_paths if path.is_holder}
    types = principal_types(model)

    requests = approved = denied = 0
    latencies: list[int] = []
    history = list(iter_activation_requests(model))
    for request in history:
        requests += 1
        if request.decision is None:
            continue
        approved += request.decision is Decision.APPROVED
        denied += request.decision is Decision.DENIED
        assert request.decided_at is not None and request.approval_requested_at is not None
        latencies.append(request.decided_at - request.approval_requested_at)

    metrics: dict[str, Metric] = {
        "privileged_access_eligible": by_state[ELIGIBLE],
        "privileged_access_active_permanent": by_state[ACTIVE_PERMANENT],
        "privileged_access_active_time_bound": by_state[ACTIVE_TIME_BOUND],
        "privileged_access_activated": by_state[ACTIVATED],
        "privileged_access_outside_pim": by_state[OUTSIDE_PIM],
        "standing_privileged_access": sum(by_state[state] for state in STANDING_STATES),
        "privileged_principals": len(principals),
        "privileged_users": sum(1 for p in principals if types.get(p) == "user"),
        "privileged_service_principals": sum(1 for p in principals if types.get(p) == "service_principal"),
        "eligible_only_principal_share": len(principals - standing) / len(principals) if principals else None,
        "activation_requests": requests,
        "approval_rate": approved / (approved + denied) if approved + denied else None,
        "median_approval_latency_seconds": statistics.median(latencies) / 1000 if latencies else None,
    }
    users = {u.id: u for u in model.users}
    policies = {p.role_id: p for p in model.policies}
    failures = programme.compliance_failures(model)
    alerts = programme.expected_alerts(model, history, principals, global_admins)
    metrics |= {
        "global_admins": len(global_admins),
        "global_admin_users": sum(1 for p in global_admins if types.get(p) == "user"),
        "global_admin_service_principals": sum(1 for p in global_admins if types.get(p) == "service_principal"),
        "global_admin_share": len(global_admins) / len(principals) if principals else None,
        "privileged_guests": sum(1 for p in principals if p in users and users[p].user_type == "Guest"),
        "privileged_synced_accounts": sum(1 for p in principals if p in users and users[p].synced),
        "tier0_roles_without_approval": sum(
            1 for role in model.roles if role.tier == 0 and not policies[role.id].approval_required
        ),
        "role_compliance_failures": len(failures),
        "alerts_raised": len(alerts),
    }
    metrics |= access_review_metrics(model)
    metrics |= activation_duration_metrics(history)
    metrics |= _effective_privilege_metrics(privileged_paths)
    over_privileged = expected_over_privileged(model, history, paths)
    metrics |= over_privileged_metrics(over_privileged)
    metrics |= azure_metrics(model)
    metrics |= policy_metrics(model)
    metrics |= lifecycle_metrics(model, history)
    metrics |= verdict_metrics(model, history)
    metrics |= surface_activation_metrics(model)
    surface_metrics, surfaces = surface_findings(model, history, privileged_paths, alerts)
    metrics |= surface_metrics
    m365_roles = m365_role_rows(model)
    metrics |= m365_role_metrics(model, m365_roles, principals)
    surfaces |= {"m365_role_assignments": m365_roles}
    advice_metrics, surfaces["policy_advice"] = policy_advice(model, history, paths, over_privileged)
    metrics |= advice_metrics
    metrics = {name: metrics[name] for name in METRIC_IDS}  # in the order docs/metrics.md documents them
    # Access rows on a role the catalogue no longer lists: kept as an unknown role, never privileged (so no count
    # above includes them); too many of them and the counts they would feed are unknown.
    unlisted = {(e.principal_id, e.role_id, e.directory_scope_id, ELIGIBLE) for e in model.unlisted_role_eligibilities}
    unknown_roles = (len(access_rows(model) | unlisted), len(unlisted))
    if unknown_roles[1] > MAX_UNREADABLE_SHARE * unknown_roles[0]:
        metrics |= dict.fromkeys(UNKNOWN_ROLE_METRICS)
    flagged = {row.principal_id for row in over_privileged}
    head_counts = {
        "global_admins": head_count_by_path(global_admin_paths, None, types),
        "privileged_principals": head_count_by_path(privileged_paths, None, types),
        "over_privileged_principals": head_count_by_path(privileged_paths, flagged, types),
    }
    tenant = model.tenant
    return GroundTruth(
        tenant.id,
        tenant.seed,
        tenant.size,
        iso(tenant.as_of),
        metrics,
        tuple(alert.to_json() for alert in alerts),
        tuple(failures),
        tuple(row.to_json() for row in over_privileged),
        unreadable_inputs={"unknown_role_ids": unknown_roles},
        head_counts=tuple(
            {"head_count": name, "principal_type": kind, "path_kind": path_kind, "principals": count}
            for name, counts in head_counts.items()
            for (kind, path_kind), count in sorted(counts.items())
        ),
        rollout=rollout_by_department(model, rows, privileged_paths, types),
        daily_trend=daily_trend(model, history, privileged_roles),
        surfaces=surfaces,
    )


def rollout_by_department(
    model: TenantModel, rows: list[AccessRow], paths: list[PrivilegePath], types: dict[str, str]
) -> tuple[dict[str, str | int], ...]:
    """fct_privileged_access_daily on the as_of day: access rows on privileged roles and the head-count by path,
    per department of the principal (its user record's; "(none)" for groups, apps and users without one)."""
    departments = {u.id: u.department for u in model.users if u.department}
    by_department: dict[str, Counter[str]] = defaultdict(Counter)
    for principal, _, _, state in rows:
        counts = by_department[departments.get(principal, "(none)")]
        counts["standing_access"] += state in STANDING_STATES
        counts["eligible_access"] += state == ELIGIBLE
        counts["activated_access"] += state == ACTIVATED
    by_principal: dict[str, list[PrivilegePath]] = defaultdict(list)
    for path in paths:
        by_principal[path.principal_id].append(path)
    for principal, held in by_principal.items():
        counts = by_department[departments.get(principal, "(none)")]
        kinds = {path.path_kind for path in held}
        holder = any(path.is_holder for path in held)
        counts["privileged_principals"] += holder
        counts["privileged_users"] += holder and types.get(principal) == "user"
        counts["privileged_service_principals"] += holder and types.get(principal) == "service_principal"
        counts["eligible_only_principals"] += holder and not any(path.is_standing for path in held)
        counts["principals_direct_active"] += any(path.is_direct and path.state == ACTIVE for path in held)
        counts["principals_direct_eligible"] += "direct_eligible" in kinds
        counts["principals_group_member"] += "group_member" in kinds
        counts["principals_pim_group_member_eligible"] += "pim_group_member_eligible" in kinds
        counts["principals_pim_group_member_active"] += "pim_group_member_active" in kinds
        counts["group_owners"] += not all(path.is_holder for path in held)
    return tuple(
        {"department": department} | {column: int(counts[column]) for column in ROLLOUT_COLUMNS}
        for department, counts in sorted(by_department.items())
    )


def access_review_metrics(model: TenantModel) -> dict[str, Metric]:
    """Access reviews of privileged roles (metrics.md), from the decisions the reviews surface generated."""
    reviews = AccessReviews(Context(model))
    privileged = privileged_role_ids(model)
    held = {role for _, role, _, _ in access_rows(model) if role in privileged}
    return {
        "privileged_roles_without_access_review": len(held - reviews.reviewed_roles),
        "access_review_self_decisions": sum(1 for d in reviews.records if d.is_self_review),
        "access_review_late_decisions": sum(1 for d in reviews.records if d.is_late),
        "access_review_denials_not_applied": sum(1 for d in reviews.records if d.is_denial_not_applied),
    }


def activation_duration_metrics(history: list[ActivationRequest]) -> dict[str, Metric]:
    """Requested against granted duration: activations PIM granted for less than was asked (metrics.md)."""
    return {
        "activations_granted_shorter_than_requested": sum(1 for r in history if r.is_granted_shorter_than_requested),
        "reactivations_after_expiry": reactivations_after_expiry(history),
    }


def reactivations_after_expiry(history: list[ActivationRequest]) -> int:
    """Requests made within the repeated-activation window after the same person's previous activation of the
    same role ran out (at any scope), the previous ones taken in request order."""
    by_holding: dict[tuple[str, str], list[ActivationRequest]] = {}
    for r in history:
        by_holding.setdefault((r.principal_id, r.role_id), []).append(r)
    found = 0
    for requests in by_holding.values():
        last_ran_out: int | None = None
        for r in sorted(requests, key=lambda r: (r.requested_at, r.request_id)):
            if last_ran_out is not None and last_ran_out <= r.requested_at <= last_ran_out + REPEATED_WINDOW:
                found += 1
            if r.ran_out_at is not None:
                last_ran_out = max(last_ran_out or r.ran_out_at, r.ran_out_at)
    return found


def _effective_privilege_metrics(paths: list[PrivilegePath]) -> dict[str, Metric]:
    """Of the privileged principals (holders by any path), those with an active path and those holding only
    through a group."""
    holders = {path.principal_id for path in paths if path.is_holder}
    direct_holders = {path.principal_id for path in paths if path.is_holder and path.is_direct}
    return {
        "effective_active_privileged_principals": len({path.principal_id for path in paths if path.state == ACTIVE}),
        "group_only_privileged_principals": len(holders - direct_holders),
    }
