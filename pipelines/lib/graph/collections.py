"""What pimlens reads from Graph: one spec per collection, landed in ``raw.<table>``.

The table name is also the Dagster asset key (``["raw", table]``) and the dbt source table, so lineage needs
no translation anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import quote, urlencode


class LoadMode(Enum):
    SNAPSHOT = "snapshot"  # the whole collection, kept as one dated snapshot per run
    INCREMENTAL = "incremental"  # an append-only event stream read by a time watermark


@dataclass(frozen=True)
class CollectionSpec:
    table: str
    api_version: str
    path: str
    description: str
    permission: str
    params: dict[str, str] = field(default_factory=dict)
    mode: LoadMode = LoadMode.SNAPSHOT
    # For incremental collections: the timestamp property the watermark follows, and the fixed filter.
    time_property: str | None = None
    lookback: timedelta = timedelta(hours=1)

    def first_url(self, graph_url: str, *, since: datetime | None = None) -> str:
        params = dict(self.params)
        if self.mode is LoadMode.INCREMENTAL and since is not None:
            window = f"{self.time_property} ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            params["$filter"] = f"{params['$filter']} and {window}" if "$filter" in params else window
        query = urlencode(params, quote_via=quote, safe="$'(),/:=")
        return f"{graph_url}/{self.api_version}/{self.path}" + (f"?{query}" if query else "")


USER_FIELDS = (
    "id,displayName,userPrincipalName,userType,accountEnabled,department,jobTitle,officeLocation,"
    "usageLocation,createdDateTime,onPremisesSyncEnabled,onPremisesImmutableId"
)

COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        table="role_definitions",
        api_version="beta",
        path="roleManagement/directory/roleDefinitions",
        description="Entra role definitions; beta because only beta carries Microsoft's isPrivileged flag.",
        permission="RoleManagement.Read.Directory",
    ),
    CollectionSpec(
        table="role_assignments",
        api_version="v1.0",
        path="roleManagement/directory/roleAssignments",
        description="Currently effective active role assignments, including legacy ones made outside PIM.",
        permission="RoleManagement.Read.Directory",
    ),
    CollectionSpec(
        table="role_assignment_schedule_instances",
        api_version="v1.0",
        path="roleManagement/directory/roleAssignmentScheduleInstances",
        description="Active assignments managed by PIM: standing (Assigned) and live JIT activations (Activated).",
        permission="RoleAssignmentSchedule.Read.Directory",
    ),
    CollectionSpec(
        table="role_eligibility_schedule_instances",
        api_version="v1.0",
        path="roleManagement/directory/roleEligibilityScheduleInstances",
        description="Eligible (just-in-time) role assignments.",
        permission="RoleEligibilitySchedule.Read.Directory",
    ),
    CollectionSpec(
        table="role_management_policy_assignments",
        api_version="v1.0",
        path="policies/roleManagementPolicyAssignments",
        description="PIM role settings per directory role, with the policy and its rules expanded.",
        permission="RoleManagementPolicy.Read.Directory",
        params={
            "$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'",
            "$expand": "policy($expand=rules)",
        },
    ),
    CollectionSpec(
        table="users",
        api_version="v1.0",
        path="users",
        description="Users, with only the fields the metrics need.",
        permission="User.Read.All",
        params={"$select": USER_FIELDS, "$top": "999"},
    ),
    CollectionSpec(
        table="groups",
        api_version="v1.0",
        path="groups",
        description="Groups, to resolve group principals and find role-assignable groups.",
        permission="Group.Read.All",
        params={
            "$select": "id,displayName,securityEnabled,mailEnabled,isAssignableToRole,groupTypes,createdDateTime",
            "$top": "999",
        },
    ),
    CollectionSpec(
        table="service_principals",
        api_version="v1.0",
        path="servicePrincipals",
        description="Service principals with credential metadata (types and expiry, never values).",
        permission="Application.Read.All",
        params={
            "$select": "id,appId,displayName,servicePrincipalType,accountEnabled,appOwnerOrganizationId,"
            "passwordCredentials,keyCredentials",
            "$top": "999",
        },
    ),
    CollectionSpec(
        table="directory_audits",
        api_version="v1.0",
        path="auditLogs/directoryAudits",
        description="PIM's audit events, the only read-only source of activation and approval history.",
        permission="AuditLog.Read.All",
        params={"$filter": "loggedByService eq 'PIM'", "$top": "999"},
        mode=LoadMode.INCREMENTAL,
        time_property="activityDateTime",
    ),
)

COLLECTIONS_BY_TABLE = {spec.table: spec for spec in COLLECTIONS}
