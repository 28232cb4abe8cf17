"""Effective privilege in the demo tenant (docs/metrics.md, "Effective privilege"), from the generator's model
and its PIM for Groups surface: every path by which a user or service principal holds a role, directly or
through a role-assignable group. The ground truth of the effective-privilege headline metrics."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

ACTIVE = "active"
ELIGIBLE = "eligible"
AccessRow = tuple[str, str, str, str]  # (principal, role, directory scope, access state), as ground_truth has it


@dataclass(frozen=True)
class Membership:
    """One way a principal sits in a role-assignable group, and what it gives them (active or eligible)."""

    group_id: str
    principal_id: str
    path_kind: str
    state: str


@dataclass(frozen=True)
class PrivilegePath:
    principal_id: str
    role_id: str
    directory_scope_id: str
    path_kind: str
    via_group_id: str | None
    via_group_access_state: str | None
    state: str

    @property
    def is_direct(self) -> bool:
        return self.via_group_id is None


def group_memberships(model: TenantModel) -> set[Membership]:
    """PIM for Groups grants (an owner only holds eligibly: they must add themself as a member first) and the
    plain transitive members that no active PIM member grant accounts for."""
    groups = PimGroups(Context(model))
    found: set[Membership] = set()
    pim_members: set[tuple[str, str]] = set()
    for grant in groups.grants:
        is_active = grant.assignment_type is not None
        kind = f"pim_group_{grant.access_id}_{ACTIVE if is_active else ELIGIBLE}"
        state = ACTIVE if is_active and grant.access_id == "member" else ELIGIBLE
        found.add(Membership(grant.group_id, grant.principal_id, kind, state))
        if is_active and grant.access_id == "member":
            pim_members.add((grant.group_id, grant.principal_id))
    group_ids = {g.id for g in model.groups}
    for group_id, members in groups.transitive_members().items():
        for member in members:
            if (group_id, member["id"]) not in pim_members and member["id"] not in group_ids:
                found.add(Membership(group_id, member["id"], "group_member", ACTIVE))
    return found


def effective_privilege(model: TenantModel, rows: set[AccessRow]) -> set[PrivilegePath]:
    """Every path of a principal that is not a group to a role: its own access rows, and each group membership
    combined with each of the group's access rows (active only when both are)."""
    group_ids = {g.id for g in model.groups}
    paths = {
        PrivilegePath(principal, role, scope, f"direct_{state}", None, None, ELIGIBLE if state == ELIGIBLE else ACTIVE)
        for principal, role, scope, state in rows
        if principal not in group_ids
    }
    held_by_group: dict[str, list[AccessRow]] = {}
    for row in rows:
        held_by_group.setdefault(row[0], []).append(row)
    for membership in group_memberships(model):
        if membership.principal_id in group_ids:  # a nested group: its own members are transitive members
            continue
        for _, role, scope, state in held_by_group.get(membership.group_id, []):
            is_active = membership.state == ACTIVE and state != ELIGIBLE
            paths.add(
                PrivilegePath(
                    membership.principal_id,
                    role,
                    scope,
                    membership.path_kind,
                    membership.group_id,
                    state,
                    ACTIVE if is_active else ELIGIBLE,
                )
            )
    return paths
