"""Admins' changes to who holds what during the year: eligibilities and active assignments made through PIM, and
time-bound eligibilities that PIM ends when they expire, as the audit log shows them.

Without them the audit log shows how people used their access but never how they came to hold it, and nothing
could rebuild the daily state before pimlens' first snapshot (docs/metrics.md, "History before the first run").
Each change is logged the way the reference (graph-pim-real-world.md sections 2, 3, 5 and 8) describes an admin
assignment through PIM: PIM's `... in PIM requested` and `... in PIM completed` rows by the admin, with `RequestId`,
`StartTime`, `ExpirationTime` (time-bound only) and `Justification`, the principal third among the targets, and
Core Directory's mirror of the write by the app MS-PIM (no user). An eligibility that ends is PIM expiring its
schedule: `Remove eligible member from role in PIM completed (timebound)` with PIM itself (`Azure AD PIM`) in the
user slot, as on activation expiry, Core Directory's mirror a few seconds before.

Nothing here draws from a random generator: ids and the acting admin are derived from the changed schedule's id,
so adding this stream moved no id or timestamp of any other event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import SECOND, Instant
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import AssignmentKind, TenantModel

REQUEST_LEAD = 3 * SECOND  # the requested row comes a few seconds before the completed one


class Change(StrEnum):
    ELIGIBLE_ADDED = "eligible_added"
    ELIGIBLE_EXPIRED = "eligible_expired"
    ACTIVE_ADDED = "active_added"


@dataclass(frozen=True, slots=True)
class AccessChange:
    """One change an admin (or PIM's expiry) made to a principal's access to a role, at `at`."""

    change: Change
    schedule_id: str  # the eligibility's or the assignment's own id: the change's ids derive from it
    at: Instant
    principal_id: str
    role_id: str
    end: Instant | None  # the schedule's end as granted; None for a permanent one
    actor_id: str | None  # the admin; None when PIM itself acted (expiry)

    @property
    def request_id(self) -> str:
        return derived_guid(self.schedule_id, "admin-request/" + self.change.value)

    @property
    def duration(self) -> str:
        """The suffix PIM's activity names carry."""
        return "permanent" if self.end is None else "timebound"


# The roles whose holders make PIM assignments in the demo tenant (the reference's least role for them is
# Privileged Role Administrator; Global Administrators can too).
_ASSIGNING_ROLES = frozenset({catalog.GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR})


class AccessChanges:
    """The access changes of one tenant's year, oldest first."""

    def __init__(self, model: TenantModel):
        self.model = model

    @cached_property
    def admins(self) -> tuple[str, ...]:
        """Enabled member users, never break-glass, who hold an assigning role at some point of the year."""
        users = {u.id: u for u in self.model.users}
        holders = {e.principal_id for e in self.model.eligibilities if e.role_id in _ASSIGNING_ROLES}
        holders |= {a.principal_id for a in self.model.assignments if a.role_id in _ASSIGNING_ROLES}
        chosen = sorted(
            user_id
            for user_id in holders
            if user_id in users
            and users[user_id].account_enabled
            and users[user_id].user_type == "Member"
            and not users[user_id].is_break_glass
        )
        return tuple(chosen)

    def _admin_for(self, schedule_id: str, principal_id: str) -> str | None:
        """The admin who made a change, derived from what changed; never the principal itself when another can."""
        pool = [admin for admin in self.admins if admin != principal_id] or list(self.admins)
        if not pool:
            return None
        return pool[int(derived_guid(schedule_id, "admin")[:8], 16) % len(pool)]

    @cached_property
    def changes(self) -> tuple[AccessChange, ...]:
        tenant = self.model.tenant
        window_start, as_of = tenant.window_start, tenant.as_of
        made: list[AccessChange] = []
        for e in self.model.eligibilities:
            if window_start <= e.start <= as_of:
                admin = self._admin_for(e.id, e.principal_id)
                made.append(AccessChange(Change.ELIGIBLE_ADDED, e.id, e.start, e.principal_id, e.role_id, e.end, admin))
            if e.end is not None and window_start <= e.end <= as_of:
                made.append(AccessChange(Change.ELIGIBLE_EXPIRED, e.id, e.end, e.principal_id, e.role_id, e.end, None))
        for a in self.model.assignments:
            if a.kind is AssignmentKind.ASSIGNED and window_start <= a.start <= as_of:
                admin = self._admin_for(a.id, a.principal_id)
                made.append(AccessChange(Change.ACTIVE_ADDED, a.id, a.start, a.principal_id, a.role_id, a.end, admin))
        return tuple(sorted(made, key=lambda c: (c.at, c.request_id)))

    def additions_by_admin(self) -> Iterator[tuple[str, Instant]]:
        """(admin, when) of each role addition an admin made through PIM: what the membership-burst rule counts."""
        for c in self.changes:
            if c.actor_id is not None and c.change is not Change.ELIGIBLE_EXPIRED:
                yield c.actor_id, c.at
