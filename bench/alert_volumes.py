"""How many alerts each rule raises per 100 activations, and how many a week reach the on-call team.

Reads a published analytics database (after `make demo`: var/analytics.duckdb) and the design it was built with:

    .venv/bin/python -m bench.alert_volumes --analytics var/analytics.duckdb --design var/demo-tenant/design.yaml

For after-hours it also counts what the rule raised before the per-person baseline: every activation after hours,
from each activation's local time in its principal's resolved zone (dim_principal_v1) and the design's business hours.
docs/alerts.md keeps the latest numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from pipelines.lib.design import WEEKDAYS, AlertThresholds, load_design


def volumes(analytics: Path, design_file: Path) -> list[str]:
    design = load_design(design_file)
    hours = design.business_hours
    days = [WEEKDAYS.index(day) + 1 for day in hours.days]
    with duckdb.connect(str(analytics), read_only=True) as con:
        activations, first_at, last_at = con.execute(
            "select count(*), min(activated_at), max(activated_at) from marts.fct_activation_requests"
            " where activated_at is not null"
        ).fetchone()
        weeks = max((last_at - first_at).days / 7, 1)
        rows = con.execute(
            """select alert_rule, alert_kind, count(*), count(*) filter (where status = 'open'),
                count(*) filter (where severity in ('high', 'medium'))
            from marts.fct_alerts group by all order by alert_kind, alert_rule"""
        ).fetchall()
        [(every_after_hours,)] = con.execute(
            f"""select count(*) from marts.fct_activation_requests as requests
            left join marts.dim_principal_v1 as principals
                on requests.tenant_id = principals.tenant_id and requests.principal_id = principals.principal_id
            where requests.activated_at is not null and (
                not list_contains({days}, isodow(timezone(coalesce(principals.time_zone, ?), requests.activated_at)))
                or cast(timezone(coalesce(principals.time_zone, ?), requests.activated_at) as time) < ?
                or cast(timezone(coalesce(principals.time_zone, ?), requests.activated_at) as time) >= ?)""",
            [hours.default_time_zone, hours.default_time_zone, hours.start, hours.default_time_zone, hours.end],
        ).fetchall()
        default = AlertThresholds()
        # Runs of the default count inside the default window, raised once per run as fct_alerts does.
        [(repeated_by_default,)] = con.execute(
            f"""select count(*) from (
                select activated_at,
                    lag(activated_at) over by_pair as previous_at,
                    lag(activated_at, {default.repeated_activation_count - 1}) over by_pair as back_at,
                    lag(activated_at, {default.repeated_activation_count}) over by_pair as back_of_previous_at
                from marts.fct_activation_requests where activated_at is not null
                window by_pair as (partition by tenant_id, principal_id, role_definition_id
                    order by activated_at, request_id))
            where back_at >= activated_at - to_seconds({default.repeated_activation_window_seconds})
                and not coalesce(back_of_previous_at >= previous_at
                    - to_seconds({default.repeated_activation_window_seconds}), false)"""
        ).fetchall()
    lines = [
        f"{activations} activations over {weeks:.0f} weeks ({activations / weeks:.1f} a week)",
        f"{'rule':24} {'kind':6} {'raised':>7} {'per 100 act.':>12} {'per week':>9} {'medium+ a week':>14} "
        f"{'open now':>9}",
    ]
    for rule, kind, raised, still_open, urgent in rows:
        per_100 = f"{100 * raised / activations:.1f}" if kind == "event" else "-"
        per_week = f"{raised / weeks:.2f}" if kind == "event" else "-"
        urgent_week = f"{urgent / weeks:.2f}" if kind == "event" else "-"
        lines.append(f"{rule:24} {kind:6} {raised:>7} {per_100:>12} {per_week:>9} {urgent_week:>14} {still_open:>9}")
    lines.append(
        f"every activation after hours (no baseline): {every_after_hours}, "
        f"{100 * every_after_hours / activations:.1f} per 100 activations, {every_after_hours / weeks:.2f} a week"
    )
    lines.append(
        f"repeated activation at the default ({default.repeated_activation_count} within "
        f"{default.repeated_activation_window_seconds} s): {repeated_by_default}, "
        f"{100 * repeated_by_default / activations:.1f} per 100 activations"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analytics", type=Path, default=Path("var/analytics.duckdb"))
    parser.add_argument("--design", type=Path, default=Path("var/demo-tenant/design.yaml"))
    args = parser.parse_args()
    print("\n".join(volumes(args.analytics, args.design)))


if __name__ == "__main__":
    main()
