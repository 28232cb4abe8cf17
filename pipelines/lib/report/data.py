"""What the report shows, read from the analytics database the pipeline publishes: every number is a mart's.

The queries only select, filter and add up rows of the marts at a chart's grain (per day, month, wave, rule);
rates and percentiles are the Power BI model's measures (pipelines/lib/powerbi/model.yml) sliced by month.
Each query reads every tenant at once and its rows are grouped by tenant here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from pipelines.lib.report.findings import MOST_SEVERE_SQL, Finding, read_findings

# Per day, across departments: standing and eligible access rows, from the first day the audit log covers (days before
# the first snapshot are rebuilt from it: fct_access_trend_daily), and on snapshot days the standing access the
# design's rollout still allows (that of departments no started wave covers: fct_privileged_access_daily). Rebuilt
# days have no department split, so no target.
STANDING_SQL = """
with allowed as (
    select
        tenant_id,
        snapshot_date,
        coalesce(sum(standing_access) filter (where wave_starts_on is null or wave_starts_on > snapshot_date), 0)
            as allowed_standing,
        bool_or(wave_name is not null) as has_waves
    from marts.fct_privileged_access_daily
    group by all
)

select
    trend.tenant_id,
    trend.snapshot_date,
    trend.standing_access,
    trend.eligible_access,
    allowed.allowed_standing,
    coalesce(allowed.has_waves, false)
from marts.fct_access_trend_daily as trend
left join allowed on trend.tenant_id = allowed.tenant_id and trend.snapshot_date = allowed.snapshot_date
order by trend.tenant_id, trend.snapshot_date
"""

# Per month of the request: approval decisions, the measures "Approval Rate" and "Approval Latency P50 (s)" over
# them, activations and those outside business hours ("After-Hours Activations"). Mart:
# fct_star_activation_requests_v1, dated by dim_date_v1.
MONTHLY_SQL = """
select
    requests.tenant_id,
    dates.calendar_year_month,
    count(*) filter (where requests.is_decided),
    count(*) filter (where requests.is_approved) / nullif(count(*) filter (where requests.is_decided), 0),
    quantile_cont(requests.approval_latency_seconds, 0.5) filter (where requests.is_decided),
    count(*) filter (where requests.is_activated),
    count(*) filter (where requests.is_activated and requests.is_after_hours)
from marts.fct_star_activation_requests_v1 as requests
inner join marts.dim_date_v1 as dates on requests.requested_date_key = dates.date_key
group by all
order by 1, 2
"""

# The compliance matrix of directory roles, one cell per row of fct_star_role_compliance_v1 with role_system entra
# (the headline role_compliance_failures; Azure and PIM for Groups policies are rows of their own), roles by tier
# then name.
COMPLIANCE_SQL = """
select
    compliance.tenant_id,
    roles.tier,
    roles.role_name,
    compliance.compliance_rule,
    compliance.compliance_status
from marts.fct_star_role_compliance_v1 as compliance
inner join marts.dim_role_v1 as roles on compliance.role_key = roles.role_key
where compliance.role_system = 'entra'
order by compliance.tenant_id, roles.tier, roles.role_name, compliance.compliance_rule
"""

# Per rollout wave: standing access on the baseline day and the latest day, eligible access on the latest day.
# Mart: fct_star_access_daily_v1 (its is_baseline_day and is_latest_day flags).
WAVES_SQL = """
select
    tenant_id,
    coalesce(wave_name, '(no wave)'),
    coalesce(sum(standing_access) filter (where is_baseline_day), 0),
    coalesce(sum(standing_access) filter (where is_latest_day), 0),
    coalesce(sum(eligible_access) filter (where is_latest_day), 0)
from marts.fct_star_access_daily_v1
group by tenant_id, wave_name
order by tenant_id, wave_name nulls last
"""

# One mark per review instance (fct_access_review_outcomes), on its due date.
REVIEWS_SQL = """
select tenant_id, review_name, review_instance_id, due_at, completion_status
from marts.fct_access_review_outcomes
order by tenant_id, review_name, due_at
"""

HEADLINE_SQL = """
select tenant_id, metric_name, metric_value, is_known, as_of_at
from marts.fct_headline_metrics
order by tenant_id, metric_name
"""


@dataclass
class TenantReport:
    tenant_id: str
    tenant_name: str
    is_configured: bool
    as_of_at: datetime | None = None
    headline: dict[str, float | None] = field(default_factory=dict)  # None: unknown
    standing: list[tuple[date, int, int, int]] = field(default_factory=list)  # day, standing, eligible, allowed
    has_waves: bool = False
    approvals: list[tuple[str, float, float | None]] = field(default_factory=list)  # month, rate, p50 seconds
    after_hours: list[tuple[str, int, int]] = field(default_factory=list)  # month, activations, after hours
    compliance: list[tuple[str, str, str, str]] = field(default_factory=list)  # tier, role, rule, status
    waves: list[tuple[str, int, int, int]] = field(default_factory=list)  # wave, baseline, latest, eligible
    reviews: list[tuple[str, str, datetime, str]] = field(default_factory=list)  # review, instance, due, status
    open_alerts: list[tuple[str, str, int]] = field(default_factory=list)  # rule, severity, open alerts
    alerts_have_lifecycle: bool = False
    findings: list[Finding] = field(default_factory=list)

    def is_known(self, metric: str) -> bool:
        """Whether the headline metric was computed (a surface it needs was read); False when unknown or absent."""
        return self.headline.get(metric) is not None


@dataclass(frozen=True)
class Publication:
    published_at: datetime | None
    is_pseudonymised: bool
    tenants: list[TenantReport]


class NotAnAnalyticsDatabase(Exception):
    """The file holds no marts the report reads; the message names the file."""


def read_publication(con: duckdb.DuckDBPyConnection) -> Publication:
    """Every tenant's report data from the analytics database `con` is open on (read-only)."""
    try:
        tenants = {
            tenant_id: TenantReport(tenant_id, name, configured)
            for tenant_id, name, configured in con.execute(
                "select tenant_id, tenant_name, is_configured from marts.dim_tenant_v1 order by tenant_name"
            ).fetchall()
        }
    except duckdb.CatalogException as error:
        raise NotAnAnalyticsDatabase(str(error).splitlines()[0]) from error
    for tenant_id, name, value, known, as_of in con.execute(HEADLINE_SQL).fetchall():
        if tenant := tenants.get(tenant_id):
            tenant.headline[name] = value if known else None
            tenant.as_of_at = as_of
    for tenant_id, rows in _by_tenant(con, STANDING_SQL).items():
        tenants[tenant_id].standing = [row[:4] for row in rows]
        tenants[tenant_id].has_waves = any(row[4] for row in rows)
    for tenant_id, rows in _by_tenant(con, MONTHLY_SQL).items():
        # The charts' months: those with an approval decision, and those with an activation.
        tenants[tenant_id].approvals = [(month, rate, p50) for month, decided, rate, p50, *_ in rows if decided]
        tenants[tenant_id].after_hours = [(month, done, late) for month, *_, done, late in rows if done]
    for attribute, sql in (
        ("compliance", COMPLIANCE_SQL),
        ("waves", WAVES_SQL),
        ("reviews", REVIEWS_SQL),
    ):
        for tenant_id, rows in _by_tenant(con, sql).items():
            setattr(tenants[tenant_id], attribute, rows)
    lifecycle = alerts_have_lifecycle(con)
    for tenant_id, rows in _by_tenant(con, open_alerts_sql(lifecycle)).items():
        tenants[tenant_id].open_alerts = rows
    for tenant in tenants.values():
        tenant.alerts_have_lifecycle = lifecycle
    for tenant_id, findings in read_findings(con, open_alert_filter(lifecycle)).items():
        tenants[tenant_id].findings = findings
    published_at, pseudonymised = con.execute(
        "select published_at, is_pseudonymised from meta.publication"
    ).fetchone() or (None, False)
    return Publication(published_at, pseudonymised, list(tenants.values()))


def alerts_have_lifecycle(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether fct_alerts records when an alert was resolved; without it every alert raised is open."""
    return bool(
        con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_alerts' and column_name = 'resolved_at'"
        ).fetchone()[0]
    )


def open_alert_filter(lifecycle: bool) -> str:
    return "resolved_at is null" if lifecycle else "true"


def open_alerts_sql(lifecycle: bool) -> str:
    """Open alerts per rule (fct_alerts), most first."""
    return f"""
    select
        tenant_id,
        alert_rule,
        {MOST_SEVERE_SQL},
        count(*) as alerts
    from marts.fct_alerts
    where {open_alert_filter(lifecycle)}
    group by tenant_id, alert_rule
    order by tenant_id, alerts desc, alert_rule
    """


def _by_tenant(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for tenant_id, *row in con.execute(sql).fetchall():
        grouped[tenant_id].append(tuple(row))
    return grouped
