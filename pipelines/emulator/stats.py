"""Counters a test or benchmark reconciles against: what was asked, what was refused, what was served.

`retry_after_violations` counts requests that arrived while a Retry-After this emulator announced to the same
app for the same scope was still running: a client bug the R-1 benchmark requires to be 0. The scope of a
rate-limit 429 is its limit family (all audit-log reads, or all directory reads); the scope of an injected 429
is its collection. Requests to `/_emulator/*` are not counted anywhere, so polling stats does not move them.
`pages_served` / `rows_served` count only whole 200 pages (a truncated one was not usable), keyed by collection
(`v1.0/users`, `loganalytics/AuditLogs`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

# A request this much before a window closes is still counted as on time: the client measures the wait from
# when it read the 429, a little after we stamped it, so only clock noise can land it early.
VIOLATION_TOLERANCE_S = 0.05


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], float] = {}  # (app, scope) -> time.time() the window closes
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests_total = 0
            self.requests_by_path: Counter[str] = Counter()
            self.responses_by_status: Counter[str] = Counter()
            self.throttled_total = 0
            self.throttled_by_cause: Counter[str] = Counter()
            self.retry_after_violations = 0
            self.retry_after_violations_by_path: Counter[str] = Counter()
            self.pages_served: Counter[str] = Counter()
            self.rows_served: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.tokens_issued = 0
            self._windows.clear()

    def request(self, path: str) -> None:
        with self._lock:
            self.requests_total += 1
            self.requests_by_path[path] += 1

    def response(self, status: int) -> None:
        with self._lock:
            self.responses_by_status[str(status)] += 1

    def throttled(self, cause: str, app_id: str, scope: str, window_s: float) -> None:
        """A 429 was sent; `window_s` is the Retry-After it announced (0 when none)."""
        with self._lock:
            self.throttled_total += 1
            self.throttled_by_cause[cause] += 1
            if window_s > 0:
                closes = time.time() + window_s
                self._windows[app_id, scope] = max(closes, self._windows.get((app_id, scope), 0.0))

    def check_window(self, app_id: str, scopes: tuple[str, ...], path: str) -> bool:
        """Count (and return True) when a request arrives inside an announced Retry-After window."""
        now = time.time()
        with self._lock:
            inside = any(self._windows.get((app_id, s), 0.0) - VIOLATION_TOLERANCE_S > now for s in scopes)
            if inside:
                self.retry_after_violations += 1
                self.retry_after_violations_by_path[path] += 1
            return inside

    def page(self, collection: str, rows: int) -> None:
        with self._lock:
            self.pages_served[collection] += 1
            self.rows_served[collection] += rows

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def token_issued(self) -> None:
        with self._lock:
            self.tokens_issued += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests_total": self.requests_total,
                "requests_by_path": dict(self.requests_by_path),
                "responses_by_status": dict(self.responses_by_status),
                "throttled_total": self.throttled_total,
                "throttled_by_cause": dict(self.throttled_by_cause),
                "retry_after_violations": self.retry_after_violations,
                "retry_after_violations_by_path": dict(self.retry_after_violations_by_path),
                "pages_served": dict(self.pages_served),
                "rows_served": dict(self.rows_served),
                "faults": dict(self.faults),
                "tokens_issued": self.tokens_issued,
            }
