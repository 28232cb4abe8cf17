"""Reading a generated tenant back with plain Python: no generator or warehouse code, so the checks are independent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import orjson
import yaml

from pipelines.demo_tenant import GroundTruth
from pipelines.demo_tenant.model import TenantModel

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SEED = 7
# The seeds whose plants three modules check (the alert kinds, the over-privileged reasons, the access states).
EVERY_SEED = (*(("S", seed) for seed in range(10)), ("M", 7))
# The `seeded` fixture (conftest.py): (size, seed) -> that tenant's model and ground truth at AS_OF.
Seeded = Callable[[str, int], tuple[TenantModel, GroundTruth]]
DIRECTORY = "v1.0/roleManagement/directory"

ACTIVATION_STEPS = {
    "Add member to role requested (PIM activation)": "requested",
    "Add member to role approval requested (PIM activation)": "approval_requested",
    "Add member to role request approved (PIM activation)": "approved",
    "Add member to role request denied (PIM activation)": "denied",
    "PIM activation request expired": "expired",
    "Add member to role canceled (PIM activation)": "canceled",
    "Add member to role completed (PIM activation)": "completed",
    "Remove member from role (PIM activation expired)": "ran_out",
}
DEACTIVATION_STEPS = {
    "Remove member from role requested (PIM deactivate)": "requested",
    "Remove member from role completed (PIM deactivate)": "completed",
}
OUTSIDE_PIM = "Add member to role outside of PIM (permanent)"
# Admins' changes through PIM, and PIM expiring a time-bound eligibility (pipelines/demo_tenant/access_changes.py).
ADMIN_CHANGES = {
    f"Add {noun} to role in PIM {step} ({duration})"
    for noun in ("eligible member", "member")
    for step in ("requested", "completed")
    for duration in ("permanent", "timebound")
} | {"Remove eligible member from role in PIM completed (timebound)"}

# Files of the other PIM surfaces (pipelines/demo_tenant/surfaces), checked in test_surfaces.py.
SURFACE_PATTERNS = (
    "v1.0/roleManagement/directory/role*Schedules.json",
    "v1.0/roleManagement/directory/role*ScheduleRequests.json",
    "v1.0/directoryRoles.json",
    "v1.0/directoryRoles/*/members.json",
    "v1.0/identityGovernance/**/*.json",
    "v1.0/groups/*/transitiveMembers.json",
    "v1.0/applications.json",
    "v1.0/applications/*/owners.json",
    "v1.0/servicePrincipals/*/*.json",
    "v1.0/oauth2PermissionGrants.json",
    "v1.0/identity/conditionalAccess/policies.json",
    "beta/identityGovernance/**/*.json",
    "beta/roleManagement/deviceManagement/*.json",
    "beta/roleManagement/exchange/*.json",
)


def is_surface(root: Path, path: Path) -> bool:
    relative = path.relative_to(root).as_posix()
    return any(fnmatchcase(relative, pattern) for pattern in SURFACE_PATTERNS)


def millis(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def load(root: Path, relative: str) -> Any:
    return orjson.loads((root / relative).read_bytes())


def audit_log(root: Path) -> list[dict[str, Any]]:
    """The tenant's whole audit log, in Graph's shape: Graph serves only its last 30 days, Log Analytics' AuditLogs
    keeps the year, row for row the same events (surfaces/loganalytics.py) under its own column names."""
    return [
        {
            "id": row["Id"],
            "activityDisplayName": row["ActivityDisplayName"],
            "activityDateTime": row["ActivityDateTime"],
            "category": row["Category"],
            "correlationId": row["CorrelationId"],
            "loggedByService": row["LoggedByService"],
            "operationType": row["AADOperationType"],
            "result": row["Result"],
            "resultReason": row["ResultReason"],
            "initiatedBy": row["InitiatedBy"],
            "targetResources": row["TargetResources"],
            "additionalDetails": row["AdditionalDetails"],
        }
        for row in load(root, "loganalytics/AuditLogs.json")
    ]


@dataclass
class Event:
    """One audit event reduced to what docs/audit-events.md says pimlens reads."""

    raw: dict[str, Any]
    activity: str
    at: int
    request_id: str
    role_id: str
    principal_id: str
    initiator_id: str | None
    details: dict[str, str]


def parse_event(raw: dict[str, Any]) -> Event:
    details = {d["key"]: d["value"] for d in raw["additionalDetails"]}
    roles = [t for t in raw["targetResources"] if t["type"] == "Role"]
    principals = [t for t in raw["targetResources"] if t["type"] in ("User", "Group", "ServicePrincipal")]
    assert len(roles) == 1 and len(principals) == 1, raw["id"]
    user = raw["initiatedBy"]["user"]
    request_targets = [t["id"] for t in raw["targetResources"] if t["type"] == "Request"]
    request_id = details.get("RoleAssignmentRequestId") or details.get("RequestId") or request_targets[0]
    assert request_targets == [request_id], raw["id"]
    is_system = user is None or user["displayName"] == "Azure AD PIM"
    return Event(
        raw=raw,
        activity=raw["activityDisplayName"],
        at=millis(raw["activityDateTime"]),
        request_id=request_id,
        role_id=roles[0]["id"],
        principal_id=principals[0]["id"],
        initiator_id=None if is_system else user["id"],
        details=details,
    )


@dataclass
class Tenant:
    root: Path
    truth: GroundTruth
    events: list[Event]  # PIM's audit events, what the pipeline reads as directory_audits
    admin_task_events: list[dict[str, Any]]  # people's own Core Directory rows, read as directory_admin_audits
    # PIM's work as other services log it: Core Directory's mirror rows by MS-PIM, Access Reviews' parallel rows.
    mirror_events: list[dict[str, Any]]
    group_events: list[dict[str, Any]]  # PIM for Groups rows (category GroupManagement), not role activations
    azure_events: list[dict[str, Any]]  # PIM for Azure resources rows (category ResourceManagement), nor these

    def collection(self, relative: str) -> list[dict[str, Any]]:
        return load(self.root, relative)

    def privileged_roles(self) -> set[str]:
        """docs/metrics.md's privileged roles: tier0 or tier1 in the tenant's design.yaml (every role has a tier
        there), whatever Microsoft's isPrivileged says."""
        tiers = yaml.safe_load((self.root / "design.yaml").read_text(encoding="utf-8"))["role_tiers"]
        return {role for role, tier in tiers.items() if tier in ("tier0", "tier1")}

    def activation_requests(self) -> dict[str, dict[str, Event]]:
        """RequestId -> step -> event, for activation lifecycles only."""
        requests: dict[str, dict[str, Event]] = defaultdict(dict)
        for event in self.events:
            step = ACTIVATION_STEPS.get(event.activity)
            if step is not None:
                assert step not in requests[event.request_id], f"{step} twice in {event.request_id}"
                requests[event.request_id][step] = event
        return dict(requests)

    def approval_roles(self) -> dict[str, list[str]]:
        """role id -> the ids its primary approvers name (a singleUser's userId, a groupMembers' groupId), for roles
        whose policy requires approval."""
        policy_role = {
            a["policyId"]: a["roleDefinitionId"]
            for a in self.collection("v1.0/policies/roleManagementPolicyAssignments.json")
            if a["scopeType"] == "DirectoryRole"
        }
        roles: dict[str, list[str]] = {}
        for policy_id, role_id in policy_role.items():
            rules = {
                r["id"]: r for r in self.collection(f"v1.0/policies/roleManagementPolicies/{policy_id}/rules.json")
            }
            setting = rules["Approval_EndUser_Assignment"]["setting"]
            if setting["isApprovalRequired"]:
                # A singleUser approver is its user, a groupMembers approver its group.
                roles[role_id] = [
                    a.get("userId") or a["groupId"] for a in setting["approvalStages"][0]["primaryApprovers"]
                ]
        return roles


def outcome(steps: dict[str, Event]) -> str:
    for step in ("denied", "expired", "canceled"):
        if step in steps:
            return step
    if "completed" in steps:
        return "failed" if steps["completed"].raw["result"] == "failure" else "activated"
    return "pending"


def access_rows_from_files(tenant: Tenant) -> set[tuple[str, str, str, str]]:
    """Every access row of metrics.md, read from the written JSON alone (the warehouse's view of the tenant)."""
    rows = {
        (e["principalId"], e["roleDefinitionId"], e["directoryScopeId"], "eligible")
        for e in tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json")
    }
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    for i in instances:
        if i["assignmentType"] == "Activated":
            state = "activated"
        else:
            state = "active_permanent" if i["endDateTime"] is None else "active_time_bound"
        rows.add((i["principalId"], i["roleDefinitionId"], i["directoryScopeId"], state))
    origins = {i["roleAssignmentOriginId"] for i in instances}
    for a in tenant.collection(f"{DIRECTORY}/roleAssignments.json"):
        if a["id"] not in origins:
            rows.add((a["principalId"], a["roleDefinitionId"], a["directoryScopeId"], "outside_pim"))
    return rows
