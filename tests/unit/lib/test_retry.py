import random
from datetime import UTC, datetime

import pytest

from pipelines.lib.graph.retry import (
    MAX_BACKOFF_SECONDS,
    RetryBudget,
    RetryBudgetExhausted,
    backoff_seconds,
    parse_retry_after,
)

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("2.128", 2.128),
        ("0", 0.0),
        ("315", 315.0),
        ("Sun, 01 Nov 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Nov 2026 11:59:00 GMT", 0.0),  # a date in the past means "now", never a negative sleep
    ],
)
def test_retry_after_forms_graph_sends(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "   ", "soon", "NaN"])
def test_missing_or_odd_retry_after_falls_back_to_backoff(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_backoff_grows_and_is_capped_at_ten_minutes() -> None:
    rng = random.Random(1)
    first = backoff_seconds(1, rng)
    fifth = backoff_seconds(5, rng)
    assert 0.5 <= first <= 1.0
    assert 8.0 <= fifth <= 16.0
    assert backoff_seconds(30, rng) <= MAX_BACKOFF_SECONDS


def test_retry_after_is_honoured_in_full_even_beyond_the_sdks_180_second_limit() -> None:
    budget = RetryBudget()
    assert budget.next_wait(1, 315.0, "429") == 315.0


def test_per_request_budget_gives_up_with_the_reason() -> None:
    budget = RetryBudget(per_request=2)
    budget.next_wait(1, None, "503")
    budget.next_wait(2, None, "503")
    with pytest.raises(RetryBudgetExhausted, match="503"):
        budget.next_wait(3, None, "503")


def test_per_run_budget_is_shared_across_requests() -> None:
    budget = RetryBudget(per_request=5, per_run=3)
    for _ in range(3):
        budget.next_wait(1, 0.0, "reset")
    with pytest.raises(RetryBudgetExhausted, match="run's retry budget of 3"):
        budget.next_wait(1, 0.0, "reset")
