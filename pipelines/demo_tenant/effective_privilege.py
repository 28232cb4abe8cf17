"""Effective privilege in the demo tenant (docs/metrics.md, "Effective privilege" and "Head-counts"), from the
generator's model and its PIM for Groups surface: every path by which a user or service principal holds a role,
directly or through a role-assignable group, and the head-counts split by path. The ground truth of the
head-count metrics and of fct_privileged_head_counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.context import Context
from pipelines.demo_tenant.surfaces.groups import PimGroups

ACTIVE = "active"
ELIGIBLE = "eligible"
OWNER = "owner"  # an owner can add themself as a member, but holds nothing until they do
ANY_PATH = "any"
AccessRow = tuple[str, str, str, str]  # (principal, role, directory scope, access state), as ground_truth has it
STANDING_STATES = ("active_permanent", "active_time_bound", "outside_pim")


@dataclass(frozen=True)
class Membership:
    """One way a principal sits in a role-assignable group, and what it gives them (active, eligible or owner)."""

    group_id: str
    principal_id: str
    path_kind: str
    state: str
    is_standing: bool  # held without an activation: a plain member, or an `assigned` PIM for Groups member


@dataclass(frozen=True)
class PrivilegePath:
    principal_id: str
    role_id: str
    directory_scope_id: str
    path_kind: str
    via_group_id: str | None
    via_group_access_state: str | None
    state: str
    is_standing: bool = False

    @property
    def is_direct(self) -> bool:
        return self.via_group_id is None

    @property
    def is_holder(self) -> bool:
        return self.state != OWNER


def group_memberships(model: TenantModel) -> set[Membership]:
    """PIM for Groups grants (owners hold nothing) and the plain members that no active PIM member grant
    accounts for, from the model's grants and member lists (never from the files written)."""
    groups = PimGroups(Context(model))
    found: set[Membership] = set()
    pim_members: set[tuple[str, str]] = set()
    for grant in groups.grants:
        is_active = grant.assignment_type is not None
        kind = f"pim_group_{grant.access_id}_{ACTIVE if is_active else ELIGIBLE}"
        state = OWNER if grant.access_id == "owner" else ACTIVE if is_active else ELIGIBLE
        found.add(Membership(grant.group_id, grant.principal_id, kind, state, grant.assignment_type == "assigned"))
        if is_active and grant.access_id == "member":
            pim_members.add((grant.group_id, grant.principal_id))
    # Two grants of one path (an assigned and an activated membership) are one path, standing if either is.
    merged: dict[tuple[str, str, str, str], bool] = {}
    for m in found:
        key = (m.group_id, m.principal_id, m.path_kind, m.state)
        merged[key] = merged.get(key, False) or (m.is_standing and m.state == ACTIVE)
    found = {Membership(*key, is_standing) for key, is_standing in merged.items()}
    for group_id, members in groups.members.items():
        for member in members:
            if (group_id, member) not in pim_members:
                found.add(Membership(group_id, member, "group_member", ACTIVE, True))
    return found


def effective_privilege(model: TenantModel, rows: set[AccessRow]) -> set[PrivilegePath]:
    """Every path of a principal that is not a group to a role: its own access rows, and each group membership
    combined with each of the group's access rows (active only when both are, standing only when both are)."""
    group_ids = {g.id for g in model.groups}
    paths = {
        PrivilegePath(
            principal,
            role,
            scope,
            f"direct_{state}",
            None,
            None,
            ELIGIBLE if state == ELIGIBLE else ACTIVE,
            state in STANDING_STATES,
        )
        for principal, role, scope, state in rows
        if principal not in group_ids
    }
    held_by_group: dict[str, list[AccessRow]] = {}
    for row in rows:
        held_by_group.setdefault(row[0], []).append(row)
    for membership in group_memberships(model):
        for _, role, scope, state in held_by_group.get(membership.group_id, []):
            if membership.state == OWNER:
                path_state = OWNER
            else:
                path_state = ACTIVE if membership.state == ACTIVE and state != ELIGIBLE else ELIGIBLE
            paths.add(
                PrivilegePath(
                    membership.principal_id,
                    role,
                    scope,
                    membership.path_kind,
                    membership.group_id,
                    state,
                    path_state,
                    membership.is_standing and state in STANDING_STATES,
                )
            )
    return paths


def principal_types(model: TenantModel) -> dict[str, str]:
    """The warehouse's principal_type of every user and service principal; anything else is `unknown`."""
    types = {u.id: "user" for u in model.users}
    types |= {sp.id: "service_principal" for sp in model.service_principals}
    return types


def head_count_by_path(
    paths: Iterable[PrivilegePath], principals: set[str] | None, types: dict[str, str]
) -> dict[tuple[str, str], int]:
    """(principal type, path kind) -> distinct principals with at least one such path, among `principals` (all
    when None); path kind `any` counts each holder once. Owner paths are counted on their own rows only."""
    by_kind: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in paths:
        if principals is not None and path.principal_id not in principals:
            continue
        kind = types.get(path.principal_id, "unknown")
        by_kind[(kind, path.path_kind)].add(path.principal_id)
        if path.is_holder:
            by_kind[(kind, ANY_PATH)].add(path.principal_id)
    return {key: len(found) for key, found in by_kind.items()}
