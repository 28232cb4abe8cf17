"""Everyday directory administration by the tenant's role holders: the audit events Entra logs under
"Core Directory" (Update user, Reset user password, Add member to group, ...), beside PIM's own.

Without them the audit log would show admins only activating roles, and nothing could tell a Global
Administrator who edits conditional access apps from one who only resets passwords. Each role holder gets a
habit: some only do tasks a lesser role allows, some also do tasks that need a tier-0 role, some do nothing the
log shows. Three tier-0 holders get one habit each up front, so every tenant shows all three, whatever the seed.

The stream draws from its own `random.Random`, so adding it moved no id or timestamp of the PIM events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, SECOND, Instant, iso
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import PrincipalType, TenantModel, User

CORE_DIRECTORY = "Core Directory"
DOMAIN_NAME_ADMINISTRATOR = "8329153b-31d0-4727-b945-745eb3bc5f31"


@dataclass(frozen=True)
class Task:
    activity: str
    least_role_id: str
    category: str
    operation: str
    target_type: str  # User, Group, Application or Other


# Each task with the least-privileged role that allows it. The warehouse reads the same mapping from the dbt seed
# audit_activity_least_privileged_role; a unit test keeps the two in step.
TASKS = (
    Task("Reset user password", catalog.PASSWORD_ADMINISTRATOR, "UserManagement", "Update", "User"),
    Task("Update user", catalog.USER_ADMINISTRATOR, "UserManagement", "Update", "User"),
    Task("Add user", catalog.USER_ADMINISTRATOR, "UserManagement", "Add", "User"),
    Task("Delete user", catalog.USER_ADMINISTRATOR, "UserManagement", "Delete", "User"),
    Task("Add member to group", catalog.GROUPS_ADMINISTRATOR, "GroupManagement", "Add", "Group"),
    Task("Remove member from group", catalog.GROUPS_ADMINISTRATOR, "GroupManagement", "Delete", "Group"),
    Task("Add application", catalog.APPLICATION_DEVELOPER, "ApplicationManagement", "Add", "Application"),
    Task("Update domain", DOMAIN_NAME_ADMINISTRATOR, "DirectoryManagement", "Update", "Other"),
    Task(
        "Update application", catalog.CLOUD_APPLICATION_ADMINISTRATOR, "ApplicationManagement", "Update", "Application"
    ),
    Task(
        "Add service principal credentials",
        catalog.CLOUD_APPLICATION_ADMINISTRATOR,
        "ApplicationManagement",
        "Update",
        "Application",
    ),
)
# How often each task is done, relative to the others: password resets and user edits dominate real logs.
_WEIGHTS = {
    "Reset user password": 8,
    "Update user": 10,
    "Add user": 3,
    "Delete user": 1,
    "Add member to group": 6,
    "Remove member from group": 2,
    "Add application": 1,
    "Update domain": 0.2,
    "Update application": 2,
    "Add service principal credentials": 1,
}


class Habit(StrEnum):
    LESSER_ONLY = "lesser_only"  # every task they do needs only a tier-1 or tier-2 role
    MIXED = "mixed"  # lesser tasks, and some that need a tier-0 role
    QUIET = "quiet"  # nothing in the directory audit log


@dataclass(frozen=True, slots=True)
class AdminTask:
    event_id: str
    correlation_id: str
    at: Instant
    actor_id: str
    task: Task
    target_id: str
    target_name: str


class AdminTasks:
    """The admin-task stream of one tenant, and the habits behind it."""

    def __init__(self, model: TenantModel):
        self.model = model
        tenant = model.tenant
        self.rng = random.Random(f"pimlens-demo-admin-tasks/{tenant.seed}/{tenant.size}")
        self.tiers = {role.id: role.tier for role in model.roles}
        self.users = {u.id: u for u in model.users}

    @cached_property
    def holders(self) -> dict[str, bool]:
        """Enabled member users who hold a role now, in model order, mapped to whether they hold a tier-0 one."""
        held: dict[str, bool] = {}
        holdings = [(e.principal_id, e.principal_type, e.role_id) for e in self.model.current_eligibilities()]
        holdings += [(a.principal_id, a.principal_type, a.role_id) for a in self.model.assignments]
        for principal_id, principal_type, role_id in holdings:
            if principal_type is not PrincipalType.USER:
                continue
            user = self.users[principal_id]
            if not user.account_enabled or user.user_type != "Member" or user.is_break_glass:
                continue
            held[principal_id] = held.get(principal_id, False) or self.tiers[role_id] == 0
        return held

    def planted_habits(self) -> dict[str, Habit]:
        """One tier-0 holder per habit, chosen among those who assign nothing (not Global or Privileged Role
        Administrator), so the lesser-only one is not also an approver whose approvals need a tier-0 role."""
        approvers = {catalog.GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR}
        admin_holders = {e.principal_id for e in self.model.current_eligibilities() if e.role_id in approvers}
        admin_holders |= {a.principal_id for a in self.model.assignments if a.role_id in approvers}
        tier0 = [u for u, is_tier0 in self.holders.items() if is_tier0]
        candidates = [u for u in tier0 if u not in admin_holders] + [u for u in tier0 if u in admin_holders]
        return dict(zip(candidates, (Habit.LESSER_ONLY, Habit.MIXED, Habit.QUIET), strict=False))

    @cached_property
    def tasks(self) -> tuple[AdminTask, ...]:
        planted = self.planted_habits()
        lesser = [t for t in TASKS if self.tiers[t.least_role_id] > 0]
        tier0 = [t for t in TASKS if self.tiers[t.least_role_id] == 0]
        made: list[AdminTask] = []
        for user_id, is_tier0 in self.holders.items():
            habit = planted.get(user_id) or self._habit(is_tier0)
            if habit is Habit.QUIET:
                continue
            pool = lesser + (tier0 if habit is Habit.MIXED else [])
            times = [self._moment() for _ in range(self.rng.randint(3, 24))]
            if user_id in planted:
                # A recent task, so the planted habit shows inside any look-back window of up to 20 days.
                times.append(self.model.tenant.as_of - self.rng.randint(2, 20) * DAY + self._daytime())
            for index, at in enumerate(sorted(times)):
                task = self.rng.choices(pool, weights=[_WEIGHTS[t.activity] for t in pool])[0]
                if habit is Habit.MIXED and user_id in planted and index == len(times) - 1:
                    task = tier0[0]  # the recent task of the planted mixed holder needs tier 0
                made.append(self._task(user_id, at, task))
        return tuple(sorted(made, key=lambda t: (t.at, t.event_id)))

    def _habit(self, is_tier0: bool) -> Habit:
        if is_tier0:
            return self.rng.choices(list(Habit), weights=[0.35, 0.4, 0.25])[0]
        return self.rng.choices([Habit.LESSER_ONLY, Habit.QUIET], weights=[0.6, 0.4])[0]

    def _daytime(self) -> Instant:
        return 7 * HOUR + self.rng.randrange(0, 11 * HOUR // SECOND) * SECOND

    def _moment(self) -> Instant:
        tenant = self.model.tenant
        days = (tenant.as_of - tenant.window_start) // DAY
        return tenant.window_start + self.rng.randrange(0, days - 1) * DAY + self._daytime()

    def _task(self, actor_id: str, at: Instant, task: Task) -> AdminTask:
        target_id, target_name = self._target(task.target_type)
        return AdminTask(guid(self.rng), guid(self.rng), at, actor_id, task, target_id, target_name)

    def _target(self, target_type: str) -> tuple[str, str]:
        if target_type == "User":
            user: User = self.rng.choice(self.model.users)
            return user.id, user.user_principal_name
        if target_type == "Group" and self.model.groups:
            group = self.rng.choice(self.model.groups)
            return group.id, group.display_name
        if target_type == "Application" and self.model.service_principals:
            sp = self.rng.choice(self.model.service_principals)
            return sp.app_id, sp.display_name
        return self.model.tenant.id, self.model.tenant.default_domain

    def events(self) -> Iterator[tuple[Instant, dict]]:
        """The tasks as directoryAudits, oldest first, keyed by time for merging with PIM's events."""
        for t in self.tasks:
            actor = self.users[t.actor_id]
            yield (
                t.at,
                {
                    "id": f"Directory_{t.event_id}",
                    "category": t.task.category,
                    "correlationId": t.correlation_id,
                    "result": "success",
                    "resultReason": "",
                    "loggedByService": CORE_DIRECTORY,
                    "activityDisplayName": t.task.activity,
                    "activityDateTime": iso(t.at),
                    "operationType": t.task.operation,
                    "initiatedBy": {
                        "user": {
                            "id": actor.id,
                            "displayName": actor.display_name,
                            "userPrincipalName": actor.user_principal_name,
                            "ipAddress": actor.ip_address,
                        },
                        "app": None,
                    },
                    "targetResources": [
                        {
                            "id": t.target_id,
                            "displayName": t.target_name,
                            "type": t.task.target_type,
                            "modifiedProperties": [],
                        }
                    ],
                    "additionalDetails": [],
                },
            )
