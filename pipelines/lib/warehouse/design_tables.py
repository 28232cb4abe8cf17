"""Writes a programme design as the small tables of schema ``design``, which dbt reads as its source ``design``.

All tables are replaced in one transaction, so dbt never sees half of one design and half of another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from pipelines.lib.design import TIERS, WEEKDAYS, Design

TABLES: dict[str, str] = {
    "programme": "design_file varchar, baseline_date date, loaded_at timestamptz",
    "tier_requirements": (
        "tier varchar, tier_rank integer, is_approval_required boolean, min_approvers integer, "
        "is_mfa_required_on_activation boolean, is_justification_required boolean, is_ticket_required boolean, "
        "max_activation_seconds bigint, is_permanent_eligibility_allowed boolean, "
        "min_activation_notification_recipients integer"
    ),
    "role_tiers_override": "template_id varchar, tier varchar",
    "break_glass_accounts": "user_principal_name varchar",
    "approvers": "tier varchar, user_principal_name varchar",
    "notification_recipients": "tier varchar, address varchar",
    "business_hours": "start_time time, end_time time, iso_weekdays integer[], default_time_zone varchar",
    "business_time_zones": "usage_location varchar, time_zone varchar",
    "rollout_waves": "wave_name varchar, starts_on date, department varchar",
    "alert_thresholds": (
        "repeated_activation_window_seconds bigint, repeated_activation_count integer, "
        "stale_eligibility_days integer, too_many_global_admins_count integer, "
        "too_many_global_admins_share double, membership_burst_window_seconds bigint, membership_burst_count integer, "
        "after_hours_baseline_seconds bigint, after_hours_usual_count integer, stale_sign_in_days integer"
    ),
    "alert_lifecycle": "event_alert_max_age_seconds bigint",
    "alert_severities": "alert_rule varchar, severity varchar",
    "alert_suppressions": "alert_rule varchar, principal varchar, until_on date, reason varchar",
    # Not from the design file but from the on-call team: `pimlens alerts ack` (pipelines/lib/alerting/store.py).
    "alert_acknowledgements": "alert_id varchar, acknowledged_at timestamptz, acknowledged_by varchar, note varchar",
    "access_reviews": "max_days_since_review integer",
    "data_quality": "max_quarantined_records integer, max_collection_age_seconds bigint",
    "unreadable_inputs": "max_unreadable_share double",
    "expiring_access": "horizon_days integer",
    "advice": (
        "min_activations integer, duration_percentile double, max_activation_share double, min_decisions integer, "
        "drop_approval_min_rate double"
    ),
    # Not from the design file but from the pimlens configuration: the name each tenant is known by (dim_tenant).
    "tenants": "tenant_id varchar, tenant_name varchar",
}


def design_rows(
    design: Design, tenants: Sequence[tuple[str, str]] = (), acknowledgements: Sequence[tuple] = ()
) -> dict[str, list[tuple]]:
    """The rows of every design table, in a stable order; `tenants` are the configuration's (tenant id, name),
    `acknowledgements` the alerts the on-call team acknowledged (alert id, when, by whom, note)."""
    hours = design.business_hours
    thresholds = design.alert_thresholds
    return {
        "programme": [(str(design.source), design.baseline_date, datetime.now(UTC))],
        "tier_requirements": [
            (
                tier,
                rank,
                t.approval_required,
                t.min_approvers,
                t.mfa_on_activation,
                t.justification_required,
                t.ticket_required,
                t.max_activation_seconds,
                t.permanent_eligibility_allowed,
                t.min_activation_notification_recipients,
            )
            for rank, tier in enumerate(TIERS)
            for t in [design.tiers[tier]]
        ],
        "role_tiers_override": sorted(design.role_tiers.items()),
        "break_glass_accounts": [(upn,) for upn in design.break_glass_accounts],
        "approvers": [(tier, upn) for tier, upns in sorted(design.approvers.items()) for upn in upns],
        "notification_recipients": [
            (tier, address)
            for tier, addresses in sorted(design.notification_recipients.items())
            for address in addresses
        ],
        "business_hours": [
            (hours.start, hours.end, [WEEKDAYS.index(day) + 1 for day in hours.days], hours.default_time_zone)
        ],
        "business_time_zones": sorted(hours.time_zones_by_usage_location.items()),
        "rollout_waves": [
            (wave.name, wave.starts_on, department) for wave in design.waves for department in wave.departments
        ],
        "alert_thresholds": [dataclasses.astuple(thresholds)],
        "access_reviews": [(design.access_reviews.max_days_since_review,)],
        "data_quality": [dataclasses.astuple(design.data_quality)],
        "unreadable_inputs": [(design.unreadable_inputs.max_unreadable_share,)],
        "expiring_access": [(design.expiring_access.horizon_days,)],
        "advice": [dataclasses.astuple(design.advice)],
        "tenants": sorted(tenants),
        "alert_lifecycle": [(design.alerts.event_alert_max_age_seconds,)],
        "alert_severities": sorted(design.alerts.severity.items()),
        "alert_suppressions": [
            (suppression.rule, suppression.principal, suppression.until, suppression.reason)
            for suppression in design.alerts.suppressions
        ],
        "alert_acknowledgements": sorted(acknowledgements),
    }


def write_design(
    con: duckdb.DuckDBPyConnection,
    design: Design,
    tenants: Sequence[tuple[str, str]] = (),
    acknowledgements: Sequence[tuple] = (),
) -> dict[str, int]:
    """Replaces every table of schema ``design``; returns the row count of each."""
    rows = design_rows(design, tenants, acknowledgements)
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists design")
        for table, columns in TABLES.items():
            con.execute(f"create or replace table design.{table} ({columns})")
            if rows[table]:
                marks = ", ".join("?" for _ in rows[table][0])
                con.executemany(f"insert into design.{table} values ({marks})", rows[table])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {table: len(rows[table]) for table in TABLES}
