"""The retry policy pimlens owns instead of msgraph-sdk's.

kiota's RetryHandler gives up when Graph asks for a wait of 180 s or more, does not retry 500/502 or dropped
connections, and has no budget per run. Here every transient failure is retried with a per-request and a
per-run budget, and a Retry-After is always honoured in full, whatever form it takes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 600.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: integer, decimal (``2.128``) or HTTP date.

    ``None`` when the header is missing or unreadable, so the caller falls back to backoff instead of failing.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter for attempt 1, 2, ...: 1, 2, 4 ... s, capped at 10 minutes."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class RetryBudgetExhausted(RuntimeError):
    """Too many transient failures: the collection is abandoned before anything of it is committed."""


@dataclass
class RetryBudget:
    """Attempts left for one request and for the whole run."""

    per_request: int = 8
    per_run: int = 200
    used: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def next_wait(self, attempt: int, retry_after: float | None, reason: str) -> float:
        """Seconds to wait before retry ``attempt`` (1-based), or raise once a budget is spent."""
        if attempt > self.per_request:
            raise RetryBudgetExhausted(f"gave up after {attempt - 1} retries of one request: {reason}")
        if self.used >= self.per_run:
            raise RetryBudgetExhausted(f"the run's retry budget of {self.per_run} is spent: {reason}")
        self.used += 1
        if retry_after is not None:
            return retry_after
        return backoff_seconds(attempt, self.rng)
