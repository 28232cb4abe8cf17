"""Every row the generator writes for PIM's work has a shape of the real-shapes fixture set
(tests/fixtures/real_shapes/audits, each written from public facts about real tenants): the same service,
category, activity, kind of initiator and target types in the same order, and additionalDetails keys that the
fixture of that shape also carries. The generator is checked against the fixtures, never against itself."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.demo_tenant import generate_tenant

from .reading import AS_OF, audit_log, load

SHAPES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "real_shapes" / "audits"
PRINCIPAL_TYPES = {"User", "Group", "ServicePrincipal"}
SYSTEM_NAMES = {"Azure AD PIM", "MS-PIM"}


def initiator(row: dict[str, Any]) -> str:
    user, app = row["initiatedBy"]["user"], row["initiatedBy"]["app"]
    if user is not None and app is None:
        return "system user" if user["displayName"] in SYSTEM_NAMES else "user"
    if user is None and app is not None:
        return "system app" if app["displayName"] in SYSTEM_NAMES else "app"
    raise AssertionError(f"initiatedBy with both or neither slot: {row['id']}")


def signature(row: dict[str, Any]) -> tuple:
    targets = tuple("principal" if t["type"] in PRINCIPAL_TYPES else t["type"] for t in row["targetResources"])
    return row["loggedByService"], row["category"], row["activityDisplayName"], initiator(row), targets


def at(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["activityDateTime"].replace("Z", "+00:00"))


def detail_keys(row: dict[str, Any]) -> set[str]:
    return {d["key"].lower() for d in row["additionalDetails"]}


def is_pim_work(row: dict[str, Any]) -> bool:
    """PIM's rows and the rows other services write for PIM's work (not people's everyday admin tasks)."""
    return row["loggedByService"] in ("PIM", "Access Reviews") or initiator(row) == "system app"


def matched_shapes(audits: list[dict[str, Any]]) -> Counter[tuple]:
    """(service, category, activity) of every row of PIM's work, each checked to have a fixture's shape."""
    shapes: dict[tuple, list[set[str]]] = {}
    for path in SHAPES_DIR.glob("*.json"):
        fixture = json.loads(path.read_text())["row"]
        shapes.setdefault(signature(fixture), []).append(detail_keys(fixture))
    matched: Counter[tuple] = Counter()
    for row in filter(is_pim_work, audits):
        key = signature(row)
        assert key in shapes, f"no real shape for {key} (row {row['id']})"
        keys = detail_keys(row)
        assert any(keys <= fixture_keys for fixture_keys in shapes[key]), (key, sorted(keys))
        matched[key[:3]] += 1
    return matched


def test_every_generated_pim_row_has_a_real_shape(tenant) -> None:
    matched = matched_shapes(audit_log(tenant.root))
    # The trail of one activation across services is there: PIM, Core Directory's mirror, Access Reviews' record.
    assert {service for service, *_ in matched} == {"PIM", "Core Directory", "Access Reviews"}
    # Entra roles, PIM for Groups, Azure resources and Access Reviews' record, each in its own category.
    assert {category for _, category, _ in matched} == {
        "RoleManagement",
        "GroupManagement",
        "ResourceManagement",
        "UserManagement",
    }
    assert len(matched) >= 15


def test_a_history_across_april_2024_has_both_operation_type_vocabularies(tmp_path: Path) -> None:
    """PIM verbs before April 2024, Create / Update since (the reference's mapping), each row still a real shape."""
    root = tmp_path / "tenant"
    generate_tenant(root, size="S", seed=3, as_of=datetime(2024, 9, 1, tzinfo=UTC))
    audits = audit_log(root)
    matched_shapes(audits)
    seen = {
        (row["activityDisplayName"], row["operationType"], row["activityDateTime"] < "2024-04-01")
        for row in audits
        if row["loggedByService"] == "PIM" and row["category"] == "RoleManagement"
    }
    for activity, before, since in (
        ("Add member to role requested (PIM activation)", "CreateRequestRoleActivation", "Create"),
        ("Add member to role approval requested (PIM activation)", "RequestApprovalRoleActivation", "Update"),
        ("Add member to role completed (PIM activation)", "ActivateRole", "Update"),
    ):
        assert {(operation, early) for name, operation, early in seen if name == activity} == {
            (before, True),
            (since, False),
        }


def test_azure_resource_activations_are_logged_in_their_own_shape(tenant) -> None:
    """Each PIM for Azure resources activation has one completed row: the Azure role's GUID as the Role target, the
    subscription's ARM path as the resource. Those of the last eight hours (the policy's longest) are the ARM files'
    Activated instances; the rest ended within the year, each on a day of its own for the person and role, by
    someone eligible for that role at that scope."""

    def instances(kind: str) -> list[dict[str, Any]]:
        return [
            row["properties"]
            for path in tenant.root.glob(f"arm/subscriptions/*/providers/Microsoft.Authorization/{kind}.json")
            for row in load(path.parent, path.name)
        ]

    def key(properties: dict[str, Any]) -> tuple[str, str, str]:
        return properties["principalId"], properties["roleDefinitionId"].rsplit("/", 1)[-1], properties["scope"]

    activated = {key(p) for p in instances("roleAssignmentScheduleInstances") if p["assignmentType"] == "Activated"}
    eligible = {key(p) for p in instances("roleEligibilityScheduleInstances")}
    logged = [
        (
            (
                next(t["id"] for t in row["targetResources"] if t["type"] == "User"),
                next(t["id"] for t in row["targetResources"] if t["type"] == "Role"),
                row["targetResources"][-1]["id"],
            ),
            at(row),
        )
        for row in tenant.azure_events
    ]
    running = [k for k, when in logged if when > AS_OF - timedelta(hours=8)]
    ended = [(k, when.date()) for k, when in logged if when <= AS_OF - timedelta(days=1)]
    assert activated and sorted(running) == sorted(activated)
    assert ended and len(running) + len(ended) == len(logged)
    assert {k for k, _ in ended} <= eligible
    assert len(set(ended)) == len(ended), "two activations of one person and role on one day"
    assert all(when >= AS_OF - timedelta(days=365) for _, when in logged)


def test_pim_for_groups_activations_are_those_running_and_those_ended_within_the_year(tenant) -> None:
    """Each PIM for Groups activation has one completed row (the group as the resource): those running at as_of are
    Graph's activated assignment instances, the rest ended within the year, of eligible memberships."""
    group_pim = tenant.root / "v1.0" / "identityGovernance" / "privilegedAccess" / "group"

    def key(row: dict[str, Any]) -> tuple[str, str, str]:
        return row["principalId"], row["accessId"], row["groupId"]

    activated = {
        key(row) for row in load(group_pim, "assignmentScheduleInstances.json") if row["assignmentType"] == "activated"
    }
    eligible = {key(row) for row in load(group_pim, "eligibilityScheduleInstances.json")}
    logged = [
        (
            (
                next(t["id"] for t in row["targetResources"] if t["type"] == "User"),
                next(t["id"] for t in row["targetResources"] if t["type"] == "Role"),
                row["targetResources"][-1]["id"],
            ),
            at(row),
        )
        for row in tenant.group_events
    ]
    running = {k for k, when in logged if when > AS_OF - timedelta(hours=4)}
    ended = [k for k, when in logged if when <= AS_OF - timedelta(days=1)]
    assert activated and running == activated
    assert ended and len(running) + len(ended) == len(logged)
    assert set(ended) <= eligible
