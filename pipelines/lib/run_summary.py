"""What one refresh did to each tenant, read back from what the pipeline itself recorded: ``pimlens run``'s summary.

Everything comes from the warehouse's own bookkeeping, written since the refresh started: the loads it committed
(``meta.loads``), the records it set aside (``meta.quarantine``, ``raw.dead_letter``), the surfaces it could not
read (``meta.coverage``) and the raw gates' verdicts (``meta.gate_verdicts``). The headline metrics are compared
with those published before the refresh (``marts.fct_headline_metrics`` of the analytics database).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.lib.warehouse.catalog import has_table
from pipelines.lib.warehouse.metrics import read_headline_metrics

Metrics = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class MetricChange:
    name: str
    before: float | None
    after: float | None


@dataclass(frozen=True)
class TenantRunSummary:
    name: str
    tenant_id: str
    loads: int
    rows_read: int
    rows_new: int
    set_aside: int
    # (collection, status) of each surface the latest read of this refresh could not cover.
    coverage_gaps: tuple[tuple[str, str], ...]
    verdicts: dict[str, int]
    # (collection, gate) of each load of this refresh a gate blocked.
    held: tuple[tuple[str, str], ...]
    # None when no metrics were published for the tenant before this refresh.
    metric_changes: tuple[MetricChange, ...] | None


def published_metrics(database: Path) -> Metrics:
    """``{tenant_id: {metric: value}}`` published in `database`; empty when there is no publication yet."""
    if not database.is_file():
        return {}
    try:
        return read_headline_metrics(database)
    except duckdb.CatalogException:
        return {}


def metric_changes(before: dict[str, float | None] | None, after: dict[str, float | None]) -> tuple[MetricChange, ...]:
    """The metrics whose value differs between two publications (a metric that appears or goes counts too)."""
    previous = before or {}
    return tuple(
        MetricChange(name, previous.get(name), after.get(name))
        for name in sorted(set(previous) | set(after))
        if previous.get(name) != after.get(name)
    )


def summarise(
    warehouse: Path, since: datetime, tenants: dict[str, str], before: Metrics, after: Metrics
) -> list[TenantRunSummary]:
    """One summary per tenant of `tenants` (``{name: tenant_id}``) of what was recorded at or after `since`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [_summary(con, name, tenant_id, since, before, after) for name, tenant_id in tenants.items()]


def _summary(
    con: duckdb.DuckDBPyConnection, name: str, tenant_id: str, since: datetime, before: Metrics, after: Metrics
) -> TenantRunSummary:
    params = {"tenant": tenant_id, "since": since}
    loads, rows_read, rows_new = _one(
        con,
        "meta.loads",
        """select count(*), coalesce(sum(rows_received), 0), coalesce(sum(rows_inserted), 0) from meta.loads
        where tenant_id = $tenant and committed_at >= $since""",
        params,
        (0, 0, 0),
    )
    # Quarantined records and dead letters alike (meta.set_aside, the one definition of a record set aside).
    (set_aside,) = _one(
        con,
        "meta.set_aside",
        "select count(*) from meta.set_aside where tenant_id = $tenant and quarantined_at >= $since",
        params,
        (0,),
    )
    gaps = _all(
        con,
        "meta.coverage",
        """select collection, status from (
            select collection, status from meta.coverage where tenant_id = $tenant and checked_at >= $since
            qualify row_number() over (partition by collection order by checked_at desc) = 1
        ) where status <> 'ok' order by collection""",
        params,
    )
    verdicts = _all(
        con,
        "meta.gate_verdicts",
        """select verdict, count(*) from meta.gate_verdicts where tenant_id = $tenant and decided_at >= $since
        group by verdict order by verdict""",
        params,
    )
    # Held now (meta.held_loads): a load blocked and then released, or passed later, is not.
    held = _all(
        con,
        "meta.held_loads",
        """select distinct collection, gate from meta.held_loads
        where tenant_id = $tenant and decided_at >= $since order by all""",
        params,
    )
    published_after = after.get(tenant_id, {})
    published_before = before.get(tenant_id)
    return TenantRunSummary(
        name=name,
        tenant_id=tenant_id,
        loads=loads,
        rows_read=rows_read,
        rows_new=rows_new,
        set_aside=set_aside,
        coverage_gaps=tuple((collection, status) for collection, status in gaps),
        verdicts={verdict: count for verdict, count in verdicts},
        held=tuple((collection, gate) for collection, gate in held),
        metric_changes=None if published_before is None else metric_changes(published_before, published_after),
    )


def describe(summary: TenantRunSummary) -> list[str]:
    """The summary as a few lines for a terminal or a log."""
    verdicts = ", ".join(f"{count} {verdict}" for verdict, count in summary.verdicts.items()) or "none this run"
    lines = [
        f"  read        {summary.loads} loads, {summary.rows_read} rows, {summary.rows_new} new",
        f"  set aside   {summary.set_aside} records (marts.fct_quarantined_records lists them)",
        f"  not covered {len(summary.coverage_gaps)} surfaces (meta.coverage; `pimlens doctor` says why)",
        *(f"    {collection} ({status})" for collection, status in summary.coverage_gaps),
        f"  raw gates   {verdicts}",
    ]
    for collection, gate in summary.held:
        lines.append(f"  HELD        {collection} by {gate}: fix it at the source, or `pimlens release-load`")
    if summary.metric_changes is None:
        lines.append("  metrics     first publication for this tenant")
    elif not summary.metric_changes:
        lines.append("  metrics     none changed since the last run")
    else:
        lines.append(f"  metrics     {len(summary.metric_changes)} changed since the last run:")
        lines.extend(
            f"    {change.name:40} {format_value(change.before):>12} -> {format_value(change.after)}"
            for change in summary.metric_changes
        )
    return lines


def format_value(value: float | None) -> str:
    if value is None:
        return "unknown"
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _one(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: dict, empty: tuple) -> tuple:
    return con.execute(sql, params).fetchone() if has_table(con, *table.split(".")) else empty


def _all(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: dict) -> list[tuple]:
    return con.execute(sql, params).fetchall() if has_table(con, *table.split(".")) else []
