"""A plain, deterministic tenant large enough that every collection the faults touch spans several pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

TENANT_ID = "22222222-3333-4444-8555-666666666666"
GA = "62e90394-69f5-4237-9190-012177145e10"


def write_many_pages_tenant(
    root: Path, *, users: int = 2300, eligible: int = 350, audits: int = 2600, signins: int = 900
) -> Path:
    def write(path: str, rows: list[dict]) -> None:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(rows), encoding="utf-8")

    (root / "tenant.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "tenant.json").write_text(json.dumps({"tenantId": TENANT_ID}), encoding="utf-8")
    write(
        "beta/roleManagement/directory/roleDefinitions.json",
        [{"id": GA, "templateId": GA, "displayName": "Global Administrator", "isPrivileged": True, "isBuiltIn": True}],
    )
    write(
        "v1.0/users.json",
        [
            {"id": f"user-{i:05d}", "displayName": f"User {i}", "userType": "Member", "department": "IT"}
            for i in range(users)
        ],
    )
    write(
        "v1.0/roleManagement/directory/roleEligibilityScheduleInstances.json",
        [
            {
                "id": f"elig-{i:05d}-e",
                "principalId": f"user-{i:05d}",
                "roleDefinitionId": GA,
                "directoryScopeId": "/",
                "startDateTime": "2026-01-01T00:00:00Z",
                "endDateTime": None,
                "memberType": "Direct",
            }
            for i in range(eligible)
        ],
    )
    start = datetime(2026, 9, 1, tzinfo=UTC)
    write(
        "v1.0/auditLogs/directoryAudits.json",
        [
            {
                "id": f"PIM_{i:06d}",
                "activityDateTime": (start + timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "activityDisplayName": "Add member to role requested (PIM activation)",
                "loggedByService": "PIM",
                "category": "RoleManagement",
                "result": "success",
                "targetResources": [],
                "additionalDetails": [],
            }
            for i in range(audits)
        ],
    )
    write(
        "loganalytics/SigninLogs.json",
        [
            {
                "Id": f"signin-{i:05d}",
                "TimeGenerated": (start + timedelta(minutes=13 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "UserId": f"user-{i % users:05d}",
                "ResultType": "0",
                "AuthenticationRequirement": "multiFactorAuthentication",
                "LocationDetails": {"city": "Amsterdam", "countryOrRegion": "NL"},
            }
            for i in range(signins)
        ],
    )
    return root
