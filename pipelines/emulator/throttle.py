"""Graph's documented throttling limits (shared/reference/graph-pim.md §11.1), enforced per app + tenant.

- Identity and access reports (auditLogs: directoryAudits, signIns, ...): 5 requests per 10 s, sliding window.
- Identity and access (users, groups, servicePrincipals, applications, directoryObjects, directoryRoles, ...):
  a token bucket of resource units (RU) per 10 s sized by tenant: S (<50 users) 3,500, M (50-500) 5,000,
  L (>500) 8,000; each request costs per the documented cost table.
- PIM (roleManagement, policies, identityGovernance): no published limit, so none is enforced here.

`time_scale` compresses every window (tests run with 0.1 or less) so that a client which honours the scaled
Retry-After meets an emulator whose budget has really refilled by then.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

REPORTS_LIMIT = 5
WINDOW_SECONDS = 10.0

IDENTITY_ROOTS = frozenset(
    {
        "users",
        "groups",
        "servicePrincipals",
        "applications",
        "directoryObjects",
        "directoryRoles",
        "directoryRoleTemplates",
        "oauth2PermissionGrants",
        "organization",
        "devices",
        "contacts",
        "domains",
        "directory",
        "administrativeUnits",
    }
)

# Documented RU costs beyond the base cost of 1 (graph-pim.md §11.1), keyed by path with `*` for an id.
RU_COSTS: dict[tuple[str, ...], int] = {
    ("users",): 2,
    ("users", "*"): 2,
    ("applications",): 2,
    ("groups", "*", "members"): 3,
    ("groups", "*", "transitiveMembers"): 5,
    ("oauth2PermissionGrants",): 2,
    ("servicePrincipals", "*", "appRoleAssignments"): 2,
}


def tenant_size_budget(user_count: int) -> int:
    """RU per 10 s for one app + tenant: S (<50 users), M (50-500), L (>500)."""
    if user_count < 50:
        return 3_500
    if user_count <= 500:
        return 5_000
    return 8_000


def throttle_family(path: list[str]) -> str | None:
    """ "reports", "identity" or None (not limited) for a collection path without its API version."""
    if not path:
        return None
    if path[0] == "auditLogs":
        return "reports"
    if path[0] in IDENTITY_ROOTS:
        return "identity"
    return None


def request_cost(path: list[str], *, has_select: bool, has_expand: bool, top: int | None) -> int:
    shape = tuple(segment if i % 2 == 0 else "*" for i, segment in enumerate(path))
    cost = RU_COSTS.get(shape, 1)
    if has_select:
        cost -= 1
    if has_expand:
        cost += 1
    if top is not None and top < 20:
        cost -= 1
    return max(cost, 1)


@dataclass(frozen=True)
class Verdict:
    """The outcome of admitting a request: `retry_after` (seconds, already time-scaled) is set when refused."""

    family: str
    cost: int = 1
    retry_after: float | None = None
    used_fraction: float = 0.0


class Throttler:
    def __init__(self, *, user_count: int, time_scale: float, clock: Callable[[], float] = time.monotonic):
        self.window = WINDOW_SECONDS * time_scale
        self.capacity = float(tenant_size_budget(user_count))
        self.refill_per_second = self.capacity / self.window
        self._clock = clock
        self._lock = threading.Lock()
        self._reports: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # app -> (tokens, at)

    def admit(self, app_id: str, path: list[str], *, cost: int) -> Verdict | None:
        family = throttle_family(path)
        if family is None:
            return None
        now = self._clock()
        with self._lock:
            if family == "reports":
                return self._admit_report(app_id, now)
            return self._admit_ru(app_id, cost, now)

    def _admit_report(self, app_id: str, now: float) -> Verdict:
        recent = self._reports.setdefault(app_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= REPORTS_LIMIT:
            wait = recent[0] + self.window - now
            return Verdict("reports", retry_after=wait, used_fraction=1.0)
        recent.append(now)
        return Verdict("reports", used_fraction=len(recent) / REPORTS_LIMIT)

    def _admit_ru(self, app_id: str, cost: int, now: float) -> Verdict:
        tokens, at = self._buckets.get(app_id, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.refill_per_second)
        if tokens < cost:
            self._buckets[app_id] = (tokens, now)
            wait = (cost - tokens) / self.refill_per_second
            return Verdict("identity", cost=cost, retry_after=wait, used_fraction=1.0)
        tokens -= cost
        self._buckets[app_id] = (tokens, now)
        return Verdict("identity", cost=cost, used_fraction=1.0 - tokens / self.capacity)


def whole_seconds(seconds: float) -> int:
    """Retry-After as Graph sends it: whole seconds, rounded up so that a client never retries too early."""
    return max(0, math.ceil(seconds - 1e-9))
