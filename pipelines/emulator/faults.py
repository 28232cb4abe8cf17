"""Fault injection for the reliability tests R-1..R-3 (shared/reference/perf-reliability.md §10.5).

Every decision is a pure function of (seed, fault kind, request, how many times that same request was seen):
a run replays the same faults on the same requests however the client interleaves its streams, and a retry of
a failed request gets a fresh draw, so a client that retries always gets through in the end. Faults only ever
change what is sent; the records behind a response are never touched.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, fields
from email.utils import formatdate
from typing import Any

from pipelines.emulator.throttle import whole_seconds

# How a fault-injected 429 states its Retry-After, with the unscaled wait each one announces.
RETRY_AFTER_STYLES: dict[str, float | None] = {
    "integer": 3.0,  # "3"
    "decimal": 2.128,  # "2.128": the documented example, which integer-only parsers choke on
    "http-date": 3.0,  # "Wed, 21 Oct 2026 07:28:03 GMT"
    "zero": 0.0,  # "0"
    "large": 315.0,  # "315": seen in the field; longer than the SDK's 180 s retry cut-off
    "missing": None,  # no header: the client must back off on its own
}
SERVER_ERROR_STATUSES = (500, 502, 503, 504)


@dataclass(frozen=True)
class FaultPlan:
    """What to inject; all rates are fractions of requests in [0, 1]. The default injects nothing."""

    seed: int = 0
    latency_ms: float = 0.0  # added to every Graph and Log Analytics request
    throttle_rate: float = 0.0  # 429 storm
    retry_after_styles: tuple[str, ...] = ("integer",)  # drawn per injected 429
    server_error_rate: float = 0.0
    server_error_statuses: tuple[int, ...] = SERVER_ERROR_STATUSES
    truncate_rate: float = 0.0  # 200 with a prefix of the body and a Content-Length that matches it
    incomplete_body_rate: float = 0.0  # 200 whose Content-Length promises more than is sent before closing
    empty_page_rate: float = 0.0  # an extra page with `value: []` and a nextLink, inserted before a page
    expire_page_token_at: int | None = None  # 400 Directory_ExpiredPageToken on this nextLink follow (1-based)
    reset_rate: float = 0.0  # close the connection without a response
    token_failure_rate: float = 0.0  # token endpoint answers 503 temporarily_unavailable

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultPlan.{field.name} must be between 0 and 1, got {value!r}")
        unknown = set(self.retry_after_styles) - set(RETRY_AFTER_STYLES)
        if unknown or not self.retry_after_styles:
            raise ValueError(
                f"FaultPlan.retry_after_styles must name some of {sorted(RETRY_AFTER_STYLES)}, got {unknown or '()'}"
            )
        if not self.server_error_statuses or any(s < 500 or s > 599 for s in self.server_error_statuses):
            raise ValueError(f"FaultPlan.server_error_statuses must be 5xx codes, got {self.server_error_statuses}")
        if self.expire_page_token_at is not None and self.expire_page_token_at < 1:
            raise ValueError("FaultPlan.expire_page_token_at counts nextLink follows from 1")
        if self.latency_ms < 0:
            raise ValueError("FaultPlan.latency_ms must not be negative")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        """Build from JSON (`POST /_emulator/faults`); an unknown key is an error, not silently ignored."""
        known = {field.name for field in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown FaultPlan fields {sorted(unknown)}; known: {sorted(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RetryAfter:
    header: str | None  # None: send no Retry-After header
    window: float  # seconds from now during which a new request is a client violation


def retry_after(style: str, *, scale: float, now: float) -> RetryAfter:
    """The header for an injected 429, with the wait scaled like every other Retry-After (`now` = time.time())."""
    base = RETRY_AFTER_STYLES[style]
    if base is None:
        return RetryAfter(None, 0.0)
    if style == "decimal":
        wait = round(base * scale, 3)
        return RetryAfter(f"{wait:.3f}", wait)
    if style == "http-date":
        # An HTTP-date has whole seconds: announce the first whole second at or after the wait.
        until = math.ceil(now + base * scale)
        return RetryAfter(formatdate(until, usegmt=True), until - now)
    wait = whole_seconds(base * scale)
    return RetryAfter(str(wait), float(wait))


class FaultInjector:
    """Draws the faults of one FaultPlan; replaced as a whole when the plan changes."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._lock = threading.Lock()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._follows: Counter[str] = Counter()
        self._expired: set[str] = set()

    def _draw(self, kind: str, request: str) -> random.Random:
        with self._lock:
            self._seen[kind, request] += 1
            nth = self._seen[kind, request]
        # str seeds are hashed with SHA-512 by random.Random: stable across processes and PYTHONHASHSEED.
        return random.Random(f"{self.plan.seed}|{kind}|{request}|{nth}")

    def hits(self, kind: str, rate: float, request: str) -> bool:
        return rate > 0.0 and self._draw(kind, request).random() < rate

    def choose(self, kind: str, request: str, options: tuple[Any, ...]) -> Any:
        return self._draw(kind, request).choice(options)

    def expire_this_follow(self, collection: str) -> bool:
        """Count a nextLink follow of `collection`; True exactly once, on the k-th follow."""
        k = self.plan.expire_page_token_at
        if k is None:
            return False
        with self._lock:
            self._follows[collection] += 1
            if self._follows[collection] >= k and collection not in self._expired:
                self._expired.add(collection)
                return True
        return False
