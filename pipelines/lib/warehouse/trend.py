"""The daily access trend (marts.fct_access_trend_daily) read back, and set beside the demo generator's true daily
state: what `pimlens demo` prints under the headline metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

TREND_COLUMNS = ("standing_access", "eligible_access", "activated_access")


@dataclass(frozen=True)
class TrendDay:
    day: date
    counts: tuple[int, int, int]  # standing, eligible, activated
    is_reconstructed: bool
    history_covered_from: date | None


@dataclass(frozen=True)
class TrendComparison:
    days: int
    compared: int  # the trend's days and the true days it lacks from the log's first covered day
    reconstructed: int
    covered_from: date | None
    mismatched: tuple[date, ...]  # days whose counts differ from the truth, or that the trend lacks

    @property
    def matches(self) -> bool:
        return self.days > 0 and not self.mismatched


def read_access_trend(database: Path, tenant_id: str) -> list[TrendDay]:
    """One tenant's rows of ``marts.fct_access_trend_daily``, oldest first."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"""select snapshot_date, {", ".join(TREND_COLUMNS)}, is_reconstructed, history_covered_from
            from marts.fct_access_trend_daily where tenant_id = ? order by snapshot_date""",
            [tenant_id],
        ).fetchall()
    return [
        TrendDay(day, (standing, eligible, activated), rebuilt, covered)
        for day, standing, eligible, activated, rebuilt, covered in rows
    ]


def compare_trend_with_truth(
    trend: list[TrendDay], daily_truth: Iterable[Mapping[str, str | int]], as_of: date
) -> TrendComparison:
    """Every day of the trend against the true state that day. The demo tenant is frozen at ``as_of``: a day after
    it holds the as_of state. Every true day from the log's first covered day on must be in the trend."""
    truth = {
        date.fromisoformat(str(row["date"])): tuple(int(row[column]) for column in TREND_COLUMNS) for row in daily_truth
    }
    frozen = truth.get(as_of)
    by_day = {row.day: row.counts for row in trend}
    covered_from = trend[0].history_covered_from if trend else None
    mismatched = [row.day for row in trend if row.counts != truth.get(row.day, frozen if row.day > as_of else None)]
    missing = [day for day in truth if covered_from is not None and day >= covered_from and day not in by_day]
    return TrendComparison(
        days=len(trend),
        compared=len(trend) + len(missing),
        reconstructed=sum(row.is_reconstructed for row in trend),
        covered_from=covered_from,
        mismatched=tuple(sorted(mismatched + missing)),
    )
