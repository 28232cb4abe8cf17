"""Over-privileged principals planted in the demo tenant, and the admin-task audit stream behind one reason."""

from __future__ import annotations

import csv
from collections import defaultdict

import yaml

from pipelines.demo_tenant.admin_tasks import TASKS, AdminTasks, Habit
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.over_privileged import PIM_TASK_LEAST_ROLES, REASONS, TIER0_ONLY_LESSER_TASKS
from pipelines.lib import paths

from .reading import DIRECTORY, EVERY_SEED, Seeded, Tenant, audit_log, millis

DAY_MS = 24 * 3600 * 1000


def seed_least_roles() -> dict[str, str]:
    path = paths.DBT_PROJECT_DIR / "seeds" / "audit_activity_least_privileged_role.csv"
    with path.open(encoding="utf-8") as seed:
        return {row["activity_display_name"]: row["least_privileged_role_template_id"] for row in csv.DictReader(seed)}


def test_the_generators_task_table_agrees_with_the_dbt_seed() -> None:
    seed = seed_least_roles()
    generated = {task.activity: task.least_role_id for task in TASKS} | PIM_TASK_LEAST_ROLES
    assert {activity: seed.get(activity) for activity in generated} == generated


def test_every_seed_plants_each_reason(seeded: Seeded) -> None:
    for size, seed in EVERY_SEED:
        _, truth = seeded(size, seed)
        assert {row["reason"] for row in truth.over_privileged} == set(REASONS), (size, seed)
        principals = {row["principal_id"] for row in truth.over_privileged}
        assert truth.metrics["over_privileged_principals"] == len(principals)


def test_planted_habits_land_where_planted(tenant: Tenant, model: TenantModel) -> None:
    planted = {habit: user for user, habit in AdminTasks(model).planted_habits().items()}
    lesser = {row["principal_id"] for row in tenant.truth.over_privileged if row["reason"] == TIER0_ONLY_LESSER_TASKS}
    assert planted[Habit.LESSER_ONLY] in lesser
    assert planted[Habit.MIXED] not in lesser
    assert planted[Habit.QUIET] not in lesser
    assert planted[Habit.QUIET] not in {event["initiatedBy"]["user"]["id"] for event in tenant.admin_task_events}


def test_admin_tasks_are_core_directory_events_of_role_holders(tenant: Tenant) -> None:
    holders = {e["principalId"] for e in tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json")}
    holders |= {a["principalId"] for a in tenant.collection(f"{DIRECTORY}/roleAssignments.json")}
    seed = seed_least_roles()
    assert len(tenant.admin_task_events) > 100
    for event in tenant.admin_task_events:
        assert event["initiatedBy"]["user"]["id"] in holders
        assert event["activityDisplayName"] in seed
        assert event["result"] == "success" and event["targetResources"]


def test_lesser_task_holders_recounted_from_the_written_files(tenant: Tenant) -> None:
    """The reason recomputed from what the tenant wrote (design tiers, state files, audit log), not the model."""
    tiers = {
        role: int(tier.removeprefix("tier"))
        for role, tier in yaml.safe_load((tenant.root / "design.yaml").read_text())["role_tiers"].items()
    }
    window_days = yaml.safe_load((tenant.root / "design.yaml").read_text())["alert_thresholds"]["stale_eligibility"][
        "days"
    ]
    held = defaultdict(set)
    for row in tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json"):
        held[row["principalId"]].add(row["roleDefinitionId"])
    for row in tenant.collection(f"{DIRECTORY}/roleAssignments.json"):
        held[row["principalId"]].add(row["roleDefinitionId"])
    users = {u["id"] for u in tenant.collection("v1.0/users.json")}
    audits = audit_log(tenant.root)
    until = max(millis(e["activityDateTime"]) for e in audits if e["loggedByService"] == "PIM")
    seed = seed_least_roles()
    tasks = defaultdict(list)
    for event in audits:
        is_task = event["loggedByService"] == "Core Directory" or event["activityDisplayName"] in seed
        actor = (event["initiatedBy"].get("user") or {}).get("id")
        at = millis(event["activityDateTime"])
        if is_task and actor and until - window_days * DAY_MS < at <= until:
            tasks[actor].append(seed.get(event["activityDisplayName"]))
    recounted = {
        principal
        for principal, roles in held.items()
        if principal in users
        # A role the design gives no tier (a deleted custom role the catalogue lacks) is no tier-0 role.
        and any(tiers.get(role) == 0 for role in roles)
        and tasks.get(principal)
        and all(least is not None and tiers.get(least, 0) > 0 for least in tasks[principal])
    }
    expected = {row["principal_id"] for row in tenant.truth.over_privileged if row["reason"] == TIER0_ONLY_LESSER_TASKS}
    assert recounted == expected and expected
