"""What every surface module shares: the model, lookups by id, and a seeded generator per surface.

Each surface draws from its own `random.Random`, seeded from the tenant's seed, size and the surface's name,
so adding or changing one surface never moves the ids or timestamps of another, nor of the core files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY
from pipelines.demo_tenant.model import AssignmentKind, Group, PrincipalType, ServicePrincipal, TenantModel, User

Json = dict[str, Any]

_ODATA_TYPES = {
    PrincipalType.USER: "#microsoft.graph.user",
    PrincipalType.GROUP: "#microsoft.graph.group",
    PrincipalType.SERVICE_PRINCIPAL: "#microsoft.graph.servicePrincipal",
}
# How far back the surfaces draw activations that have ended (PIM for Groups, Azure resources): inside the year
# the Log Analytics audit copy keeps, so every one is in the generated log.
PAST_ACTIVATION_WINDOW = 360 * DAY
# Who may approve, review and assign: the holders of these roles.
_ADMIN_ROLES = (catalog.GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR)


@dataclass
class Context:
    model: TenantModel
    users: dict[str, User] = field(init=False)
    groups: dict[str, Group] = field(init=False)
    service_principals: dict[str, ServicePrincipal] = field(init=False)

    def __post_init__(self) -> None:
        self.users = {u.id: u for u in self.model.users}
        self.groups = {g.id: g for g in self.model.groups}
        self.service_principals = {sp.id: sp for sp in self.model.service_principals}
        self.roles = {r.id: r for r in self.model.roles}
        self.policies = {p.role_id: p for p in self.model.policies}

    @property
    def as_of(self) -> int:
        return self.model.tenant.as_of

    def rng(self, surface: str) -> random.Random:
        t = self.model.tenant
        return random.Random(f"pimlens-demo-surfaces/{t.seed}/{t.size}/{surface}")

    def principal_type(self, principal_id: str) -> PrincipalType:
        if principal_id in self.users:
            return PrincipalType.USER
        if principal_id in self.groups:
            return PrincipalType.GROUP
        return PrincipalType.SERVICE_PRINCIPAL

    def display_name(self, principal_id: str) -> str:
        obj = self.users.get(principal_id) or self.groups.get(principal_id) or self.service_principals[principal_id]
        return obj.display_name

    def directory_object(self, principal_id: str) -> Json:
        """A principal as a directoryObject in a members list: its @odata.type and a few properties."""
        kind = self.principal_type(principal_id)
        body: Json = {
            "@odata.type": _ODATA_TYPES[kind],
            "id": principal_id,
            "displayName": self.display_name(principal_id),
        }
        if kind is PrincipalType.USER:
            body["userPrincipalName"] = self.users[principal_id].user_principal_name
        elif kind is PrincipalType.SERVICE_PRINCIPAL:
            body["appId"] = self.service_principals[principal_id].app_id
        return body

    @cached_property
    def role_holders(self) -> list[str]:
        """Users who hold any role now (eligible or active), in model order: the tenant's admins."""
        seen: dict[str, None] = {}
        for e in self.model.current_eligibilities():
            if e.principal_type is PrincipalType.USER:
                seen.setdefault(e.principal_id)
        for a in self.model.assignments:
            if a.principal_type is PrincipalType.USER:
                seen.setdefault(a.principal_id)
        return [u for u in seen if self.users[u].account_enabled]

    @cached_property
    def security_admins(self) -> list[str]:
        """Enabled members who hold Global or Privileged Role Administrator now: they assign and review."""
        found: dict[str, None] = {}
        for e in self.model.current_eligibilities():
            if e.role_id in _ADMIN_ROLES and e.principal_type is PrincipalType.USER:
                found.setdefault(e.principal_id)
        for a in self.model.assignments:
            if a.role_id in _ADMIN_ROLES and a.principal_type is PrincipalType.USER:
                found.setdefault(a.principal_id)
        people = [u for u in found if self.users[u].account_enabled and self.users[u].user_type == "Member"]
        return people or [u.id for u in self.model.users if u.is_break_glass]

    @cached_property
    def outside_pim(self) -> list[Any]:
        return [a for a in self.model.assignments if a.kind is AssignmentKind.OUTSIDE_PIM]


def past_activation_days(rng: random.Random, eligible_since: int, as_of: int, most: int) -> list[int]:
    """Up to `most` distinct days (numbered from 1970-01-01) on which an eligibility held since `eligible_since` was
    activated in the past: after its first day, within PAST_ACTIVATION_WINDOW, and two days before as_of at the
    latest, so each activation has ended by as_of. One a day, as PIM refuses a second while one runs."""
    days = range(max(eligible_since, as_of - PAST_ACTIVATION_WINDOW) // DAY + 1, as_of // DAY - 1)
    return sorted(rng.sample(days, min(len(days), rng.randint(0, most))))
