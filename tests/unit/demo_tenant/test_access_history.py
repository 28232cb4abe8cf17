"""The audit log the generator writes is complete enough to rebuild the year: replayed backwards from the state
files alone, with plain Python, it gives the true daily state ground_truth.json holds (computed from the model,
never from the log), so the warehouse's replay (fct_access_trend_daily) has a log it can be held to."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from .reading import AS_OF, OUTSIDE_PIM, Tenant, access_rows_from_files, millis

# PIM's completed rows that start (+1) or end (-1) an access row, by kind (docs/metrics.md).
CHANGES = {
    "Add eligible member to role in PIM completed (permanent)": ("eligible_access", 1),
    "Add eligible member to role in PIM completed (timebound)": ("eligible_access", 1),
    "Remove eligible member from role in PIM completed (timebound)": ("eligible_access", -1),
    "Add member to role in PIM completed (permanent)": ("standing_access", 1),
    "Add member to role in PIM completed (timebound)": ("standing_access", 1),
    "Add member to role completed (PIM activation)": ("activated_access", 1),
    "Remove member from role (PIM activation expired)": ("activated_access", -1),
    "Remove member from role completed (PIM deactivate)": ("activated_access", -1),
}
STANDING = ("active_permanent", "active_time_bound", "outside_pim")


def replayed_trend(tenant: Tenant) -> dict[str, dict[str, int]]:
    privileged = tenant.privileged_roles()
    now = Counter()
    for _, role, _, state in access_rows_from_files(tenant):
        if role in privileged:
            kind = "standing_access" if state in STANDING else f"{state}_access"
            now[kind] += 1
    changes: list[tuple[int, str, int]] = []
    seen_outside_pim: set[tuple[str, str]] = set()
    for event in tenant.events:  # oldest first
        if event.role_id not in privileged or event.raw["result"] != "success":
            continue
        if event.activity == OUTSIDE_PIM:
            # PIM's scanner repeats the row: the first of a principal and role is the assignment.
            if (event.principal_id, event.role_id) not in seen_outside_pim:
                seen_outside_pim.add((event.principal_id, event.role_id))
                changes.append((event.at, "standing_access", 1))
        elif event.activity in CHANGES:
            changes.append((event.at, *CHANGES[event.activity]))
    trend = {}
    day = AS_OF.date()
    first = date.fromisoformat(tenant.truth.daily_trend[0]["date"])
    while day >= first:
        close = millis(datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()) + 86_400_000
        state = Counter(now)
        for at, kind, delta in changes:
            if at > close:
                state[kind] -= delta
        trend[day.isoformat()] = dict(state)
        day -= timedelta(days=1)
    return trend


def test_replaying_the_log_back_from_the_state_files_gives_the_true_daily_state(tenant: Tenant) -> None:
    truth = {row["date"]: {k: v for k, v in row.items() if k != "date"} for row in tenant.truth.daily_trend}
    assert len(truth) == 366  # every day of the year, up to and including the as_of day
    replayed = replayed_trend(tenant)
    assert {day: {kind: replayed[day].get(kind, 0) for kind in counts} for day, counts in truth.items()} == truth
    # The year moves: eligibilities are added and expire, activations come and go.
    assert len({row["eligible_access"] for row in tenant.truth.daily_trend}) > 5
    assert len({row["standing_access"] for row in tenant.truth.daily_trend}) > 1
    assert max(row["activated_access"] for row in tenant.truth.daily_trend) > 0
