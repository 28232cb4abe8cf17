"""The demo's day-by-day comparison of the rebuilt access trend with the generator's true daily state."""

from datetime import date

from pipelines.lib.warehouse.trend import TrendDay, compare_trend_with_truth

AS_OF = date(2026, 3, 3)
TRUTH = [
    {"date": "2026-03-01", "standing_access": 1, "eligible_access": 4, "activated_access": 0},
    {"date": "2026-03-02", "standing_access": 2, "eligible_access": 4, "activated_access": 1},
    {"date": "2026-03-03", "standing_access": 2, "eligible_access": 5, "activated_access": 0},
]


def day(text: str, counts: tuple[int, int, int], rebuilt: bool = True, covered: str = "2026-03-01") -> TrendDay:
    return TrendDay(date.fromisoformat(text), counts, rebuilt, date.fromisoformat(covered))


def test_every_day_equal_and_the_frozen_days_after_as_of_hold_its_state() -> None:
    trend = [
        day("2026-03-01", (1, 4, 0)),
        day("2026-03-02", (2, 4, 1)),
        day("2026-03-03", (2, 5, 0)),
        day("2026-03-04", (2, 5, 0), rebuilt=False),
    ]
    result = compare_trend_with_truth(trend, TRUTH, AS_OF)
    assert (result.matches, result.days, result.compared, result.reconstructed) == (True, 4, 4, 3)
    assert result.covered_from == date(2026, 3, 1)


def test_a_differing_day_a_missing_day_and_a_wrong_frozen_day_each_fail() -> None:
    trend = [day("2026-03-02", (2, 4, 0)), day("2026-03-04", (2, 4, 0), rebuilt=False)]
    result = compare_trend_with_truth(trend, TRUTH, AS_OF)
    assert not result.matches
    assert result.mismatched == (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))
    assert result.compared == 4


def test_days_before_the_log_are_not_asked_for_and_an_empty_trend_never_matches() -> None:
    rows = [day("2026-03-02", (2, 4, 1), covered="2026-03-02"), day("2026-03-03", (2, 5, 0), covered="2026-03-02")]
    assert compare_trend_with_truth(rows, TRUTH, AS_OF).matches
    assert not compare_trend_with_truth([], TRUTH, AS_OF).matches
