"""The Azure metrics of ground_truth.json against a recount from the written ARM and group files, done with plain
Python and the words of docs/metrics.md ("Azure"), not with the generator's model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .reading import Tenant

# docs/metrics.md, "Azure": the control plane is tier 0, Microsoft's other privileged Azure roles tier 1.
CONTROL_PLANE = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",  # Role Based Access Control Administrator
}
PRIVILEGED = CONTROL_PLANE | {"b24988ac-6180-42a0-ab88-20f7382dd24c", "a8889054-8d42-49c9-bc1c-52486c10e7cd"}
STANDING = ("active_permanent", "active_time_bound", "outside_pim")


def arm_records(tenant: Tenant, resource: str) -> Iterator[dict[str, Any]]:
    """Every record of one Microsoft.Authorization collection over the subscriptions, each id once."""
    seen = set()
    for folder in sorted((tenant.root / "arm" / "subscriptions").iterdir()):
        relative = f"arm/subscriptions/{folder.name}/providers/Microsoft.Authorization/{resource}.json"
        for record in tenant.collection(relative):
            if record["id"].lower() not in seen:
                seen.add(record["id"].lower())
                yield record["properties"]


def azure_access_rows(tenant: Tenant) -> set[tuple[str, str, str, str, str]]:
    """(principal, principal type, role GUID, scope, state) of every Azure access row in the files."""
    rows = set()
    for p in arm_records(tenant, "roleEligibilityScheduleInstances"):
        rows.add(
            (p["principalId"], p["principalType"], p["roleDefinitionId"].rsplit("/", 1)[1], p["scope"], "eligible")
        )
    origins = set()
    for p in arm_records(tenant, "roleAssignmentScheduleInstances"):
        origins.add(p["originRoleAssignmentId"].lower())
        state = (
            "activated"
            if p["assignmentType"] == "Activated"
            else "active_permanent"
            if p["endDateTime"] is None
            else "active_time_bound"
        )
        rows.add((p["principalId"], p["principalType"], p["roleDefinitionId"].rsplit("/", 1)[1], p["scope"], state))
    for folder in sorted((tenant.root / "arm" / "subscriptions").iterdir()):
        relative = f"arm/subscriptions/{folder.name}/providers/Microsoft.Authorization/roleAssignments.json"
        for record in tenant.collection(relative):
            p = record["properties"]
            if record["id"].lower() not in origins:
                role = p["roleDefinitionId"].rsplit("/", 1)[1]
                rows.add((p["principalId"], p["principalType"], role, p["scope"], "outside_pim"))
    return rows


def group_members(tenant: Tenant, group_id: str) -> dict[str, str]:
    """principal -> state a group gives its users and service principals: plain transitive members and active PIM
    for Groups members `active`, eligible PIM for Groups members `eligible`; owners hold nothing."""
    found: dict[str, str] = {}
    path = tenant.root / "v1.0" / "groups" / group_id / "transitiveMembers.json"
    if path.exists():
        for member in tenant.collection(str(path.relative_to(tenant.root))):
            if member["@odata.type"] != "#microsoft.graph.group":
                found[member["id"]] = "active"
    pim = "v1.0/identityGovernance/privilegedAccess/group"
    for row in tenant.collection(f"{pim}/eligibilityScheduleInstances.json"):
        if row["groupId"] == group_id and row["accessId"] == "member":
            found.setdefault(row["principalId"], "eligible")
    return found


def test_azure_metrics_equal_a_recount_from_the_files(tenant: Tenant) -> None:
    rows = azure_access_rows(tenant)
    holders: dict[str, set[str]] = {}  # principal -> privileged roles held by any path
    for principal, kind, role, _, _ in rows:
        if role not in PRIVILEGED:
            continue
        reached = group_members(tenant, principal) if kind == "Group" else {principal: "direct"}
        for member in reached:
            holders.setdefault(member, set()).add(role)
    recounted = {
        "azure_privileged_principals": len(holders),
        "azure_control_plane_principals": sum(1 for roles in holders.values() if roles & CONTROL_PLANE),
        "azure_standing_privileged_access": sum(
            1 for _, _, role, _, state in rows if role in PRIVILEGED and state in STANDING
        ),
    }
    assert {name: tenant.truth.metrics[name] for name in recounted} == recounted
    # Every scope kind and state is planted, and a nested security group is expanded.
    scopes = {scope.count("/") for *_, scope, _ in rows}
    assert {2, 4, 8} <= scopes and any(s.startswith("/providers/Microsoft.Management/") for *_, s, _ in rows)
    assert {state for *_, state in rows} == {
        "eligible",
        "activated",
        "active_permanent",
        "active_time_bound",
        "outside_pim",
    }
