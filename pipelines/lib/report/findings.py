"""The findings that most need action, each with its evidence (mart rows) and the next step.

Each kind of finding is one query over a mart that gives, per tenant, how many rows are in it and the first few as
evidence; the report ranks them by severity, then by how many rows, and shows the first ``TOP``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

TOP = 10
EXAMPLES = 3
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
TIER_SEVERITY = {"tier0": "critical", "tier1": "high", "tier2": "medium"}


@dataclass(frozen=True)
class Finding:
    title: str
    severity: str
    count: int
    unit: str  # what `count` counts, plural
    evidence: tuple[str, ...]
    next_step: str
    source: str  # the mart the evidence comes from

    @property
    def rank(self) -> tuple[int, int]:
        return (-SEVERITY_RANK.get(self.severity, 0), -self.count)


@dataclass(frozen=True)
class AlertAdvice:
    title: str
    next_step: str


ALERT_ADVICE = {
    "assignment_outside_pim": AlertAdvice(
        "Privileged roles assigned outside PIM",
        "Replace each direct role assignment with a PIM eligible assignment, then remove it (rule 6).",
    ),
    "break_glass_used": AlertAdvice(
        "Break-glass accounts used",
        "Confirm each use with the account's owner and the incident it served; rotate its credentials (rule 16).",
    ),
    "membership_burst": AlertAdvice(
        "Bursts of privileged-role additions by one admin",
        "Confirm with the admin that each addition was planned and remove those that were not (rule 13).",
    ),
    "after_hours_activation": AlertAdvice(
        "Activations outside business hours",
        "Ask the requesters why; require approval or an authentication context on the roles activated at night.",
    ),
    "repeated_activation": AlertAdvice(
        "The same role activated again and again",
        "Lengthen the role's maximum activation if the work needs it, or ask why it is activated so often (rule 12).",
    ),
    "no_mfa_on_activation": AlertAdvice(
        "Privileged roles activated without MFA",
        "Require MFA or an authentication context on activation in each role's PIM settings (rule 9).",
    ),
    "stale_eligibility": AlertAdvice(
        "Eligibilities nobody activates",
        "Remove eligibilities not activated in the window, or record in an access review why each is kept (rule 14).",
    ),
    "too_many_global_admins": AlertAdvice(
        "Too many Global Administrators",
        "Move Global Administrators to least-privileged roles until count and share are under the design's "
        "thresholds (rule 4).",
    ),
}

OVER_PRIVILEGE_ADVICE = {
    "several_tier0_roles": ("high", "Principals holding several tier-0 roles", "Keep one tier-0 role per person."),
    "eligible_never_activated": (
        "medium",
        "Tier-0 and tier-1 eligibilities never activated in the window",
        "Remove the eligibility, or let the next access review decide it.",
    ),
    "tier0_only_lesser_tasks": (
        "medium",
        "Tier-0 holders whose audited work needs only a lesser role",
        "Give each the least-privileged role their audited tasks need and remove the tier-0 role.",
    ),
}

# The most severe of a group's alerts (fct_alerts.severity is high, medium or low).
MOST_SEVERE_SQL = "arg_max(severity, case severity when 'high' then 3 when 'medium' then 2 else 1 end)"
_PRINCIPAL = "coalesce(principals.principal_upn, principals.principal_name, alerts.principal_id)"

ALERTS_SQL = f"""
select
    alerts.tenant_id,
    alerts.alert_rule,
    {MOST_SEVERE_SQL},
    count(*),
    list(
        concat_ws(': ', concat_ws(' on ', {_PRINCIPAL}, roles.role_name), alerts.evidence)
        order by alerts.event_at desc nulls last, alerts.alert_id
    )[1:{EXAMPLES}]
from marts.fct_alerts as alerts
left join marts.dim_principal_v1 as principals
    on alerts.tenant_id = principals.tenant_id and alerts.principal_id = principals.principal_id
left join marts.dim_role_v1 as roles
    on alerts.tenant_id = roles.tenant_id and alerts.role_definition_id = roles.role_definition_id
    and roles.role_system = 'entra'
where {{open_alerts}}
group by all
"""

COMPLIANCE_SQL = f"""
select
    tenant_id,
    tier,
    count(*),
    count(distinct role_definition_id),
    list(
        concat(role_name, ': ', compliance_rule, ' is ', coalesce(actual_value::varchar, 'unset'),
            ', the tier requires ', expected_value::varchar)
        order by role_name, compliance_rule
    )[1:{EXAMPLES}]
from marts.fct_role_compliance
where is_failure
group by all
"""

SERVICE_PRINCIPALS_SQL = f"""
select
    tenant_id,
    count(*),
    list(
        concat(display_name, ': ', password_credential_count, ' client secrets, ', owners, ' owners')
        order by display_name
    )[1:{EXAMPLES}]
from marts.fct_privileged_service_principals
where is_tier0_with_secret_or_owner
group by all
"""

OVER_PRIVILEGED_SQL = f"""
select
    tenant_id,
    reason,
    count(distinct principal_id),
    list(concat(coalesce(principal_name, principal_id), ': ', evidence) order by principal_name)[1:{EXAMPLES}]
from marts.fct_over_privileged_principals
group by all
"""

REVIEW_COVERAGE_SQL = f"""
select
    tenant_id,
    count(*),
    list(
        concat(role_name, ': ', replace(review_status, '_', ' '),
            coalesce(' (' || days_since_last_review || ' days since the last review)', ''))
        order by review_status, role_name
    )[1:{EXAMPLES}]
from marts.fct_access_review_coverage
where has_privileged_access and review_status <> 'current'
group by all
"""

DENIALS_SQL = f"""
select
    tenant_id,
    sum(denials_not_applied)::bigint,
    list(
        concat(review_name, ', due ', strftime(due_at, '%Y-%m-%d'), ': ', denials_not_applied, ' denials not applied')
        order by due_at desc
    )[1:{EXAMPLES}]
from marts.fct_access_review_outcomes
where denials_not_applied > 0
group by all
"""

STANDING_OVER_TARGET_SQL = f"""
select
    tenant_id,
    sum(standing_access)::bigint,
    list(concat(department, ' (', wave_name, ', from ', wave_starts_on, '): ', standing_access, ' standing')
        order by standing_access desc, department)[1:{EXAMPLES}]
from marts.fct_privileged_access_daily
where
    wave_starts_on <= snapshot_date
    and standing_access > 0
    and snapshot_date = (
        select max(latest.snapshot_date) from marts.fct_privileged_access_daily as latest
        where latest.tenant_id = fct_privileged_access_daily.tenant_id
    )
group by all
"""

UNKNOWN_METRICS_SQL = f"""
select tenant_id, count(*), list(metric_name order by metric_name)[1:{EXAMPLES}]
from marts.fct_headline_metrics
where not is_known
group by all
"""

UNREADABLE_SQL = f"""
select
    tenant_id,
    count(*),
    list(concat(quality_check, ': ', rows_not_understood, ' of ', rows_total, ' rows (', reason, ')')
        order by quality_check)[1:{EXAMPLES}]
from marts.fct_unreadable_inputs
where is_above_threshold
group by all
"""

HEADLINE_SQL = """
select tenant_id, metric_name, metric_value
from marts.fct_headline_metrics
where is_known and list_contains(?, metric_name)
"""


def read_findings(con: duckdb.DuckDBPyConnection, open_alerts: str) -> dict[str, list[Finding]]:
    """The first TOP findings of every tenant, most severe first. `open_alerts`: the filter on fct_alerts that keeps
    the open ones."""
    found: dict[str, list[Finding]] = defaultdict(list)
    for tenant_id, rule, severity, rows, examples in con.execute(ALERTS_SQL.format(open_alerts=open_alerts)).fetchall():
        fallback = AlertAdvice(rule.replace("_", " ").capitalize(), "See docs/metrics.md, section Alerts.")
        advice = ALERT_ADVICE.get(rule, fallback)
        found[tenant_id].append(
            Finding(advice.title, severity, rows, "open alerts", tuple(examples), advice.next_step, "fct_alerts")
        )
    for tenant_id, tier, rows, roles, examples in con.execute(COMPLIANCE_SQL).fetchall():
        found[tenant_id].append(
            Finding(
                f"PIM settings short of what {tier} requires, on {roles} roles",
                TIER_SEVERITY.get(tier, "medium"),
                rows,
                "failing checks",
                tuple(examples),
                f"Set each role's PIM settings to the design's {tier} requirements, approval and MFA first.",
                "fct_role_compliance",
            )
        )
    for tenant_id, rows, examples in con.execute(SERVICE_PRINCIPALS_SQL).fetchall():
        found[tenant_id].append(
            Finding(
                "Tier-0 service principals with client secrets or owners",
                "critical",
                rows,
                "service principals",
                tuple(examples),
                "Replace client secrets with certificates or managed identities and remove the owners (rule 18).",
                "fct_privileged_service_principals",
            )
        )
    for tenant_id, reason, rows, examples in con.execute(OVER_PRIVILEGED_SQL).fetchall():
        severity, title, step = OVER_PRIVILEGE_ADVICE.get(reason, ("medium", reason.replace("_", " "), ""))
        found[tenant_id].append(
            Finding(title, severity, rows, "principals", tuple(examples), step, "fct_over_privileged_principals")
        )
    simple = (
        (
            REVIEW_COVERAGE_SQL,
            "high",
            "Privileged roles held without a current access review",
            "roles",
            "Review each role monthly or more often, eligible and active members alike (rule 15).",
            "fct_access_review_coverage",
        ),
        (
            DENIALS_SQL,
            "high",
            "Access that reviewers denied, still in place",
            "denials not applied",
            "Remove the access the reviewers denied, and turn on auto-apply for those reviews.",
            "fct_access_review_outcomes",
        ),
        (
            STANDING_OVER_TARGET_SQL,
            "high",
            "Standing access in departments whose rollout wave has started",
            "standing access rows",
            "Convert it to eligible assignments, as the design's rollout plans for these departments.",
            "fct_privileged_access_daily",
        ),
        (
            UNKNOWN_METRICS_SQL,
            "medium",
            "Headline metrics unknown: a surface they need was not read",
            "metrics",
            "Run `pimlens doctor` and grant what it names; until then these read unknown, never zero.",
            "fct_headline_metrics",
        ),
        (
            UNREADABLE_SQL,
            "medium",
            "Inputs not understood above the design's share",
            "quality checks",
            "See fct_unreadable_inputs for the rows; the metrics they feed read unknown until they are fixed.",
            "fct_unreadable_inputs",
        ),
    )
    for sql, severity, title, unit, step, source in simple:
        for tenant_id, rows, examples in con.execute(sql).fetchall():
            found[tenant_id].append(Finding(title, severity, rows, unit, tuple(examples), step, source))
    for tenant_id, metric, value in con.execute(HEADLINE_SQL, [list(HEADLINE_RULES)]).fetchall():
        if finding := _headline_finding(metric, value):
            found[tenant_id].append(finding)
    return {tenant_id: sorted(findings, key=lambda f: f.rank)[:TOP] for tenant_id, findings in found.items()}


@dataclass(frozen=True)
class HeadlineRule:
    """A headline metric past a threshold of pim-rules.md is a finding."""

    is_breached: Callable[[int], bool]
    title: str
    severity: str
    unit: str
    evidence: str  # formatted with the metric's value as {count}
    next_step: str


HEADLINE_RULES = {
    "global_admins": HeadlineRule(
        lambda count: not 2 <= count <= 8,
        "Global Administrators outside 2 to 8",
        "high",
        "Global Administrators",
        "{count} Global Administrators by any path (rule 1: fail below 2 or above 8)",
        "Keep two break-glass and a few named Global Administrators; give everyone else a least-privileged role.",
    ),
    "privileged_guests": HeadlineRule(
        lambda count: count > 0,
        "Guests holding privileged roles",
        "high",
        "guests",
        "{count} guest users hold a tier-0 or tier-1 role (rule 17)",
        "Remove privileged roles from guests; give the people behind them member accounts if they need them.",
    ),
    "privileged_synced_accounts": HeadlineRule(
        lambda count: count > 0,
        "Privileged accounts synced from on-premises",
        "medium",
        "synced accounts",
        "{count} privileged users are synced from Active Directory, not cloud-only (rule 17)",
        "Give each admin a cloud-only account for privileged roles.",
    ),
}


def _headline_finding(metric: str, value: float) -> Finding | None:
    """A finding for a headline metric past the threshold pim-rules.md sets for it, else None."""
    rule, count = HEADLINE_RULES[metric], int(value)
    if not rule.is_breached(count):
        return None
    evidence = (rule.evidence.format(count=count),)
    return Finding(rule.title, rule.severity, count, rule.unit, evidence, rule.next_step, "fct_headline_metrics")
