"""The over-privileged principals the warehouse must find (fct_over_privileged_principals), from the model.

Three reasons, each defined in docs/metrics.md:
- several_tier0_roles: a principal holds two or more distinct tier-0 roles, in any state, by any holder path
  (a role of a role-assignable group is its members'; owning the group gives nothing);
- eligible_never_activated: a user holds a stale eligibility (the stale_eligibility alert's rule) on a tier-0 or
  tier-1 role;
- tier0_only_lesser_tasks: a user holding a tier-0 role whose audited admin tasks in the stale window all map
  to roles of a lower tier. A holder with no audited task in the window is not flagged: silence is no evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipelines.demo_tenant import catalog, programme
from pipelines.demo_tenant.admin_tasks import AdminTasks
from pipelines.demo_tenant.clock import DAY
from pipelines.demo_tenant.effective_privilege import PrivilegePath
from pipelines.demo_tenant.model import ActivationRequest, AssignmentKind, Decision, TenantModel

SEVERAL_TIER0_ROLES = "several_tier0_roles"
ELIGIBLE_NEVER_ACTIVATED = "eligible_never_activated"
TIER0_ONLY_LESSER_TASKS = "tier0_only_lesser_tasks"
REASONS = (SEVERAL_TIER0_ROLES, ELIGIBLE_NEVER_ACTIVATED, TIER0_ONLY_LESSER_TASKS)

# The PIM activities that are admin tasks, with the least role that allows them (the same rows of the dbt seed
# audit_activity_least_privileged_role). A requester's own activation steps are not admin tasks.
PIM_TASK_LEAST_ROLES = {
    "Add member to role request approved (PIM activation)": catalog.PRIVILEGED_ROLE_ADMINISTRATOR,
    "Add member to role outside of PIM (permanent)": catalog.PRIVILEGED_ROLE_ADMINISTRATOR,
}
_APPROVED, _OUTSIDE_PIM = PIM_TASK_LEAST_ROLES


@dataclass(frozen=True)
class OverPrivileged:
    principal_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"principal_id": self.principal_id, "reason": self.reason}


def _holdings(paths: Iterable[PrivilegePath]) -> dict[str, set[str]]:
    """Every user's and service principal's roles now, in any state, by any holder path: their own and those of
    the role-assignable groups they are members of; owning a group gives nothing."""
    held: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if path.is_holder:
            held[path.principal_id].add(path.role_id)
    return held


def audited_tasks(
    model: TenantModel, requests: Sequence[ActivationRequest], after: int, until: int
) -> dict[str, list[tuple[str, str]]]:
    """Per user, the (activity, least role) of each admin task they initiated in the window (after, until]."""
    tasks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for t in AdminTasks(model).tasks:
        if after < t.at <= until:
            tasks[t.actor_id].append((t.task.activity, t.task.least_role_id))
    for r in requests:
        decided = r.decided_at
        if r.decision is Decision.APPROVED and r.approver_id and decided is not None and after < decided <= until:
            tasks[r.approver_id].append((_APPROVED, PIM_TASK_LEAST_ROLES[_APPROVED]))
    for event in model.outside_pim_events:
        creator = event.assignment.created_by
        if creator and event.assignment.kind is AssignmentKind.OUTSIDE_PIM and after < event.at <= until:
            tasks[creator].append((_OUTSIDE_PIM, PIM_TASK_LEAST_ROLES[_OUTSIDE_PIM]))
    return tasks


def expected_over_privileged(
    model: TenantModel, requests: Sequence[ActivationRequest], paths: Iterable[PrivilegePath]
) -> list[OverPrivileged]:
    """`paths`: the effective privilege paths (effective_privilege.py), on every role."""
    tiers = {role.id: role.tier for role in model.roles}
    users = {u.id for u in model.users}
    found: set[OverPrivileged] = set()

    holdings = _holdings(paths)
    for principal_id, roles in holdings.items():
        if sum(1 for role in roles if tiers[role] == 0) >= 2:
            found.add(OverPrivileged(principal_id, SEVERAL_TIER0_ROLES))

    for principal_id, role_id in programme.stale_eligibilities(model, requests):
        if tiers.get(role_id, 2) <= 1:  # a role the catalogue lacks has no tier: never tier 0 or 1
            found.add(OverPrivileged(principal_id, ELIGIBLE_NEVER_ACTIVATED))

    until = model.tenant.as_of  # the evaluation instant
    tasks = audited_tasks(model, requests, until - programme.STALE_ELIGIBILITY_DAYS * DAY, until)
    for principal_id, roles in holdings.items():
        done = tasks.get(principal_id)
        is_tier0_user = principal_id in users and any(tiers[r] == 0 for r in roles)
        # A task whose least role the tenant lacks counts as needing tier 0, as in the warehouse.
        if is_tier0_user and done and all(tiers.get(least_role, 0) > 0 for _, least_role in done):
            found.add(OverPrivileged(principal_id, TIER0_ONLY_LESSER_TASKS))

    return sorted(found, key=lambda row: (row.reason, row.principal_id))


def over_privileged_metrics(rows: Sequence[OverPrivileged]) -> dict[str, int]:
    return {"over_privileged_principals": len({row.principal_id for row in rows})}
