"""The true daily state of privileged access over the year, from the generator's own model and activation history:
what fct_access_trend_daily must show for each day pimlens rebuilt from the audit log.

Computed from the eligibilities, assignments and activation requests themselves, never from the audit events the
generator writes, so that a replay that misreads the log cannot agree with it by construction.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from pipelines.demo_tenant.clock import Instant, from_datetime
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, TenantModel

FOREVER = 1 << 62
TREND_COLUMNS = ("standing_access", "eligible_access", "activated_access")
Key = tuple[str, str, str]  # (principal, role, directory scope)


def _merged(spans: list[tuple[Instant, Instant]]) -> list[tuple[Instant, Instant]]:
    """The union of half-open spans [start, end): an access row is counted once however it is held."""
    merged: list[tuple[Instant, Instant]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Counter:
    """How many access rows of one kind are held at an instant: held from `start` (inclusive) to `end` (exclusive),
    so a change at an instant has happened at that instant."""

    def __init__(self, spans: dict[Key, list[tuple[Instant, Instant]]]):
        merged = [span for key_spans in spans.values() for span in _merged(key_spans)]
        self.starts = sorted(start for start, _ in merged)
        self.ends = sorted(end for _, end in merged)

    def at(self, instant: Instant) -> int:
        return bisect_right(self.starts, instant) - bisect_right(self.ends, instant)


def daily_trend(
    model: TenantModel, requests: Iterable[ActivationRequest], privileged_roles: set[str]
) -> tuple[dict[str, str | int], ...]:
    """Per UTC day of the year up to as_of, the access rows on privileged roles held at the day's close (24:00
    UTC), or at as_of on the as_of day: standing (active permanent, active time-bound, outside PIM), eligible and
    activated, counted as fct_privileged_access_daily counts a snapshot."""
    spans: dict[str, dict[Key, list[tuple[Instant, Instant]]]] = defaultdict(lambda: defaultdict(list))
    for e in model.eligibilities:
        if e.role_id in privileged_roles:
            key = (e.principal_id, e.role_id, e.directory_scope_id)
            spans["eligible_access"][key].append((e.start, FOREVER if e.end is None else e.end))
    for a in model.assignments:
        if a.role_id in privileged_roles and a.kind is not AssignmentKind.ACTIVATED:
            key = (a.principal_id, a.role_id, a.directory_scope_id)
            spans["standing_access"][key].append((a.start, FOREVER if a.end is None else a.end))
    for r in requests:
        if r.role_id not in privileged_roles or r.completed_at is None or r.failure_reason is not None:
            continue
        ended = r.deactivation.completed_at if r.deactivation is not None else r.ran_out_at
        key = (r.principal_id, r.role_id, r.directory_scope_id)
        spans["activated_access"][key].append((r.completed_at, FOREVER if ended is None else ended))
    counters = {column: _Counter(spans[column]) for column in TREND_COLUMNS}

    tenant = model.tenant
    day = _utc_date(tenant.window_start)
    last = _utc_date(tenant.as_of)
    trend = []
    while day <= last:
        close = _midnight(day + timedelta(days=1))
        instant = min(close, tenant.as_of)
        trend.append({"date": day.isoformat()} | {column: counters[column].at(instant) for column in TREND_COLUMNS})
        day += timedelta(days=1)
    return tuple(trend)


def _utc_date(at: Instant) -> date:
    return datetime.fromtimestamp(at / 1000, UTC).date()


def _midnight(day: date) -> Instant:
    return from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
