"""What pimlens reads from Graph: one spec per collection, landed in ``raw.<table>``.

The table name is also the Dagster asset key (``["raw", table]``) and the dbt source table, so lineage needs
no translation anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import quote, urlencode


class Source(Enum):
    GRAPH = "graph"
    LOG_ANALYTICS = "log_analytics"
    ARM = "arm"  # read once per configured Azure subscription


class LoadMode(Enum):
    SNAPSHOT = "snapshot"  # the whole collection, kept as one dated snapshot per run
    INCREMENTAL = "incremental"  # an append-only event stream read by a time watermark


@dataclass(frozen=True)
class FanOut:
    """A nested collection read once per row of a collection landed earlier in the same run.

    ``parent_query`` selects from ``parent`` (the parent table's latest snapshot for the tenant: ``id``,
    ``parent_key``, ``record``) one column per ``{placeholder}`` in the child's path and parameters. Graph has
    no "list all" call for these, so enumerating parents is the only complete way to read them.
    """

    parent_table: str
    parent_query: str
    # Other raw tables the query reads (the parent always is); their assets land first, and a table never
    # landed reads as empty.
    also_reads: tuple[str, ...] = ()


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
    fan_out: FanOut | None = None
    source: Source = Source.GRAPH
    # Log Analytics only: a KQL filter added to every query of the table.
    kql_where: str = ""
    # Fan-outs only: each parent's URL answers one object, not pages of a collection; it is stored with the
    # parent's key as its id. An error whose code is listed here is an answer about the parent, not a failure:
    # its body is stored as the parent's record.
    object_per_parent: bool = False
    errors_kept_as_records: frozenset[str] = frozenset()
    # A cache rather than a snapshot: each load reads only the rows due again (its fan-out skips the rest), so the
    # collection's content is each id's newest row across loads, not the newest load.
    is_cache: bool = False
    # Fixed filters Graph cannot take as one: each is read as a request chain of its own, one after the other, into
    # the same load (it replaces any `$filter` of `params`). Graph documents only eq, ge, le and startswith for the
    # audit log's `$filter`, not `or` (graph-pim.md), so two services are two reads.
    filters: tuple[str, ...] = ()
    # Graph documents no application permission for this collection (delegated only): an app-only token, which is how
    # pimlens signs in, is refused with 403 whatever is granted. It is still asked for, recorded as not covered, and
    # nothing depends on it; `permission` is what a delegated reader would need.
    delegated_only: bool = False

    def first_urls(self, base_url: str, *, since: datetime | None = None) -> list[str]:
        """The first URL of each of the collection's reads: one, or one per alternative of `filters`."""
        if not self.filters:
            return [self.first_url(base_url, since=since)]
        return [
            replace(self, params={**self.params, "$filter": text}, filters=()).first_url(base_url, since=since)
            for text in self.filters
        ]

    def first_url(self, base_url: str, *, since: datetime | None = None, keys: Mapping[str, str] | None = None) -> str:
        # A key goes into a quoted OData string literal, where a quote is written twice: a group id holding a '
        # must not end the literal early (Graph answers 400 to the broken filter).
        literals = {name: value.replace("'", "''") for name, value in (keys or {}).items()}
        params = {name: value.format_map(literals) for name, value in self.params.items()}
        if self.mode is LoadMode.INCREMENTAL and since is not None:
            window = f"{self.time_property} ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            params["$filter"] = f"{params['$filter']} and {window}" if "$filter" in params else window
        query = urlencode(params, quote_via=quote, safe="$'(),/:=")
        path = self.path.format_map({name: quote(value, safe="") for name, value in (keys or {}).items()})
        base = f"{base_url}/{self.api_version}" if self.api_version else base_url
        return f"{base}/{path}" + (f"?{query}" if query else "")


USER_FIELDS = (
    "id,displayName,userPrincipalName,userType,accountEnabled,department,jobTitle,officeLocation,"
    "usageLocation,createdDateTime,onPremisesSyncEnabled,onPremisesImmutableId"
)

# The collections the headline metrics are built on.
CORE_COLLECTIONS: tuple[CollectionSpec, ...] = (
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
        description="PIM's audit events, the only read-only source of activation and approval history, and Access "
        "Reviews' parallel record of each PIM approval (Create request, Request approved, Request denied).",
        permission="AuditLog.Read.All",
        # One load, two reads: a collection of its own would need its own typing, watermark and staging union.
        params={"$top": "999"},
        filters=("loggedByService eq 'PIM'", "loggedByService eq 'Access Reviews'"),
        mode=LoadMode.INCREMENTAL,
        time_property="activityDateTime",
    ),
    CollectionSpec(
        table="directory_admin_audits",
        api_version="v1.0",
        path="auditLogs/directoryAudits",
        description="Everyday admin tasks (Update user, Reset user password, ...) logged by Core Directory: "
        "what role holders actually do, to find tier-0 holders whose work a lesser role allows.",
        permission="AuditLog.Read.All",
        params={"$filter": "loggedByService eq 'Core Directory'", "$top": "999"},
        mode=LoadMode.INCREMENTAL,
        time_property="activityDateTime",
    ),
)

ROLE_ASSIGNABLE_GROUPS = FanOut("groups", "select id from parent where record ->> 'isAssignableToRole' = 'true'")
ALL_SERVICE_PRINCIPALS = FanOut("service_principals", "select id from parent")

# Every other PIM surface: schedules, requests, the legacy surface, PIM for Groups, apps, reviews and alerts.
SURFACE_COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        table="role_assignment_schedules",
        api_version="v1.0",
        path="roleManagement/directory/roleAssignmentSchedules",
        description="Active assignment schedules: who created them and when, and when they expire.",
        permission="RoleAssignmentSchedule.Read.Directory",
    ),
    CollectionSpec(
        table="role_eligibility_schedules",
        api_version="v1.0",
        path="roleManagement/directory/roleEligibilitySchedules",
        description="Eligibility schedules: who created them and when, and when they expire.",
        permission="RoleEligibilitySchedule.Read.Directory",
    ),
    CollectionSpec(
        table="role_assignment_schedule_requests",
        api_version="v1.0",
        path="roleManagement/directory/roleAssignmentScheduleRequests",
        description="PIM assignment and activation requests; listing them needs a ReadWrite permission, so a "
        "read-only deployment records this surface as not covered and relies on the audit log instead.",
        permission="RoleAssignmentSchedule.ReadWrite.Directory",
    ),
    CollectionSpec(
        table="role_eligibility_schedule_requests",
        api_version="v1.0",
        path="roleManagement/directory/roleEligibilityScheduleRequests",
        description="PIM eligibility requests; listing them needs a ReadWrite permission (see above).",
        permission="RoleEligibilitySchedule.ReadWrite.Directory",
    ),
    CollectionSpec(
        table="directory_roles",
        api_version="v1.0",
        path="directoryRoles",
        description="The legacy activated directory roles, the anchor of the legacy membership surface.",
        permission="RoleManagement.Read.Directory",
    ),
    CollectionSpec(
        table="directory_role_members",
        api_version="v1.0",
        path="directoryRoles/{id}/members",
        description="Everyone currently holding each directory role on the legacy surface (no eligibles).",
        permission="RoleManagement.Read.Directory",
        fan_out=FanOut("directory_roles", "select id from parent"),
    ),
    CollectionSpec(
        table="group_policy_assignments",
        api_version="v1.0",
        path="policies/roleManagementPolicyAssignments",
        description="PIM for Groups settings (member and owner policies) of each role-assignable group.",
        permission="RoleManagementPolicy.Read.AzureADGroup",
        params={"$filter": "scopeId eq '{id}' and scopeType eq 'Group'", "$expand": "policy($expand=rules)"},
        fan_out=ROLE_ASSIGNABLE_GROUPS,
    ),
    CollectionSpec(
        table="pim_group_eligibility_instances",
        api_version="v1.0",
        path="identityGovernance/privilegedAccess/group/eligibilityScheduleInstances",
        description="PIM for Groups eligibility (member or owner) of each role-assignable group.",
        permission="PrivilegedEligibilitySchedule.Read.AzureADGroup",
        params={"$filter": "groupId eq '{id}'"},
        fan_out=ROLE_ASSIGNABLE_GROUPS,
    ),
    CollectionSpec(
        table="pim_group_assignment_instances",
        api_version="v1.0",
        path="identityGovernance/privilegedAccess/group/assignmentScheduleInstances",
        description="PIM for Groups active membership or ownership of each role-assignable group.",
        permission="PrivilegedAssignmentSchedule.Read.AzureADGroup",
        params={"$filter": "groupId eq '{id}'"},
        fan_out=ROLE_ASSIGNABLE_GROUPS,
    ),
    CollectionSpec(
        table="group_transitive_members",
        api_version="v1.0",
        path="groups/{id}/transitiveMembers",
        description="Everyone inside each role-assignable group, nested groups expanded.",
        permission="GroupMember.Read.All",
        params={"$top": "999"},
        fan_out=ROLE_ASSIGNABLE_GROUPS,
    ),
    CollectionSpec(
        table="administrative_units",
        api_version="v1.0",
        path="directory/administrativeUnits",
        description="Administrative units, the scopes of AU-scoped role assignments.",
        permission="AdministrativeUnit.Read.All",
    ),
    CollectionSpec(
        table="applications",
        api_version="v1.0",
        path="applications",
        description="App registrations with credential metadata (types and expiry, never values).",
        permission="Application.Read.All",
        params={"$select": "id,appId,displayName,createdDateTime,passwordCredentials,keyCredentials", "$top": "999"},
    ),
    CollectionSpec(
        table="application_owners",
        api_version="v1.0",
        path="applications/{id}/owners",
        description="Owners of each app registration: anyone who can add a credential to it.",
        permission="Application.Read.All",
        fan_out=FanOut("applications", "select id from parent"),
    ),
    CollectionSpec(
        table="service_principal_owners",
        api_version="v1.0",
        path="servicePrincipals/{id}/owners",
        description="Owners of each service principal.",
        permission="Application.Read.All",
        fan_out=ALL_SERVICE_PRINCIPALS,
    ),
    CollectionSpec(
        table="service_principal_app_role_assignments",
        api_version="v1.0",
        path="servicePrincipals/{id}/appRoleAssignments",
        description="Application permissions each service principal holds (Graph's appRoleId GUIDs).",
        permission="Application.Read.All",
        fan_out=ALL_SERVICE_PRINCIPALS,
    ),
    CollectionSpec(
        table="oauth2_permission_grants",
        api_version="v1.0",
        path="oauth2PermissionGrants",
        description="Delegated permission grants (admin and user consent).",
        permission="Directory.Read.All",
    ),
    CollectionSpec(
        table="conditional_access_policies",
        api_version="v1.0",
        path="identity/conditionalAccess/policies",
        description="Conditional Access policies: who each includes and excludes (users, groups, roles), for which "
        "apps or authentication contexts, and what it grants (MFA, an authentication strength, block). Optional: "
        "without Policy.Read.All the controls coverage reads unknown.",
        permission="Policy.Read.All",
    ),
    CollectionSpec(
        table="access_review_definitions",
        api_version="v1.0",
        path="identityGovernance/accessReviews/definitions",
        description="Access review definitions: scope, reviewers, cadence and settings.",
        permission="AccessReview.Read.All",
        params={"$top": "100"},
    ),
    CollectionSpec(
        table="access_review_instances",
        api_version="v1.0",
        path="identityGovernance/accessReviews/definitions/{id}/instances",
        description="Each run of each access review.",
        permission="AccessReview.Read.All",
        params={"$top": "100"},
        fan_out=FanOut("access_review_definitions", "select id from parent"),
    ),
    CollectionSpec(
        table="access_review_decisions",
        api_version="v1.0",
        path="identityGovernance/accessReviews/definitions/{definition_id}/instances/{id}/decisions",
        description="Every decision of every review instance: who reviewed whom, the outcome, whether it was applied.",
        permission="AccessReview.Read.All",
        params={"$top": "100"},
        fan_out=FanOut("access_review_instances", "select parent_key as definition_id, id from parent"),
    ),
    CollectionSpec(
        table="pim_alerts",
        api_version="beta",
        path="identityGovernance/roleManagementAlerts/alerts",
        description="Microsoft's own PIM alerts for directory roles, with their incidents.",
        permission="RoleManagementAlert.Read.Directory",
        params={"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"},
    ),
    CollectionSpec(
        table="pim_alert_incidents",
        api_version="beta",
        path="identityGovernance/roleManagementAlerts/alerts/{id}/alertIncidents",
        description="What each active PIM alert found: the principal and role of every incident, beside pimlens' "
        "own detections (fct_pim_alert_agreement).",
        permission="RoleManagementAlert.Read.Directory",
        fan_out=FanOut("pim_alerts", "select id from parent where record ->> 'isActive' = 'true'"),
    ),
    CollectionSpec(
        table="pim_alert_definitions",
        api_version="beta",
        path="identityGovernance/roleManagementAlerts/alertDefinitions",
        description="What each PIM alert means and how severe Microsoft rates it.",
        permission="RoleManagementAlert.Read.Directory",
        params={"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"},
    ),
    CollectionSpec(
        table="pim_alert_configurations",
        api_version="beta",
        path="identityGovernance/roleManagementAlerts/alertConfigurations",
        description="The tenant's thresholds for each PIM alert.",
        permission="RoleManagementAlert.Read.Directory",
        params={"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"},
    ),
)


# The users with any eligible or active path to a directory role: directly, through a role-assignable group's
# membership, or through PIM for Groups. The latest snapshot of each table the query reads.
def _latest(table: str, column: str) -> str:
    return f"""select {column} as principal_id from raw.{table} where tenant_id = $tenant and load_id = (
        select max(load_id) from meta.loads where tenant_id = $tenant and collection = '{table}')"""


_PRINCIPAL_SOURCES = (
    ("role_assignments", "record ->> 'principalId'"),
    ("role_assignment_schedule_instances", "record ->> 'principalId'"),
    ("role_eligibility_schedule_instances", "record ->> 'principalId'"),
    ("pim_group_eligibility_instances", "record ->> 'principalId'"),
    ("pim_group_assignment_instances", "record ->> 'principalId'"),
    ("group_transitive_members", "id"),
)
# A user's zone is read again once its last read is this many days old; until then the stored read stands.
MAILBOX_SETTINGS_MAX_AGE_DAYS = 7
PRIVILEGED_USERS_DUE = FanOut(
    "users",
    "select parent.id from parent where parent.id in ("
    + " union ".join(_latest(table, column) for table, column in _PRINCIPAL_SOURCES)
    + ") and parent.id not in (select id from raw.user_mailbox_settings where tenant_id = $tenant "
    f"and loaded_at > now() - interval {MAILBOX_SETTINGS_MAX_AGE_DAYS} day)",
    also_reads=tuple(table for table, _ in _PRINCIPAL_SOURCES),
)

# Per-user settings, read after every access surface above so that only privileged users are asked.
USER_SETTINGS_COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        table="user_mailbox_settings",
        api_version="v1.0",
        path="users/{id}/mailboxSettings",
        description="Each privileged user's mailbox time zone, for after-hours verdicts in their local time; "
        "read again weekly. Users without an Exchange Online mailbox answer 404 MailboxNotEnabledForRESTAPI, "
        "kept as their record ('no mailbox'). Optional: without MailboxSettings.Read the design's per-country "
        "zones are used.",
        permission="MailboxSettings.Read",
        fan_out=PRIVILEGED_USERS_DUE,
        object_per_parent=True,
        errors_kept_as_records=frozenset({"MailboxNotEnabledForRESTAPI"}),
        is_cache=True,
    ),
)

# Log Analytics keeps what Graph forgets after 30 days, and has the sign-ins. Read by TimeGenerated windows.
LOG_ANALYTICS_COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        table="la_audit_logs",
        api_version="loganalytics",
        path="AuditLogs",
        description="PIM audit events and Access Reviews' parallel record of each PIM approval from the Log "
        "Analytics workspace, for history older than Graph keeps (the directory_audits collection's rows).",
        permission="Log Analytics Reader on the workspace",
        mode=LoadMode.INCREMENTAL,
        time_property="TimeGenerated",
        source=Source.LOG_ANALYTICS,
        kql_where='LoggedByService in ("PIM", "Access Reviews")',
    ),
    CollectionSpec(
        table="la_signin_logs",
        api_version="loganalytics",
        path="SigninLogs",
        description="Interactive sign-ins, for after-hours and MFA analytics and stale privileged accounts.",
        permission="Log Analytics Reader on the workspace",
        mode=LoadMode.INCREMENTAL,
        time_property="TimeGenerated",
        source=Source.LOG_ANALYTICS,
    ),
)


def _arm(table: str, resource: str, api_version: str, description: str) -> CollectionSpec:
    # No $filter: ARM then lists what holds at the subscription, above it (inherited from management groups) and
    # below it (resource groups and resources); atScope() would leave out everything below (graph-pim.md section 5).
    return CollectionSpec(
        table=table,
        api_version="",
        path=f"subscriptions/{{subscription}}/providers/Microsoft.Authorization/{resource}",
        description=description,
        permission="Reader (Microsoft.Authorization/*/read) on each subscription",
        params={"api-version": api_version},
        source=Source.ARM,
    )


# Azure RBAC and PIM for Azure resources, per subscription, through azure-core's pipeline.
ARM_COLLECTIONS: tuple[CollectionSpec, ...] = (
    _arm(
        "arm_role_eligibility_schedule_instances",
        "roleEligibilityScheduleInstances",
        "2020-10-01",
        "Eligible Azure role assignments (PIM for Azure resources) at, above and below each subscription.",
    ),
    _arm(
        "arm_role_assignment_schedule_instances",
        "roleAssignmentScheduleInstances",
        "2020-10-01",
        "Active Azure role assignments managed by PIM, assigned or activated.",
    ),
    _arm(
        "arm_role_assignments",
        "roleAssignments",
        "2022-04-01",
        "Every Azure RBAC role assignment, PIM-managed or not.",
    ),
    _arm(
        "arm_role_management_policies",
        "roleManagementPolicies",
        "2020-10-01",
        "PIM settings of each Azure role at each subscription.",
    ),
    _arm(
        "arm_role_management_policy_assignments",
        "roleManagementPolicyAssignments",
        "2020-10-01",
        "Which PIM policy governs each Azure role at each subscription.",
    ),
)

# Azure RBAC nests through security groups (role-assignable groups do not): the members of every group that holds
# an Azure role, read after the Azure collections that name them.
ARM_GROUPS = FanOut(
    "arm_role_assignments",
    "select distinct record -> 'properties' ->> 'principalId' as id from parent "
    "where record -> 'properties' ->> 'principalType' = 'Group' union "
    "select distinct record -> 'properties' ->> 'principalId' as id from raw.arm_role_eligibility_schedule_instances "
    "where tenant_id = $tenant and record -> 'properties' ->> 'principalType' = 'Group' and load_id = ("
    "select max(load_id) from meta.loads where tenant_id = $tenant "
    "and collection = 'arm_role_eligibility_schedule_instances')",
    also_reads=("arm_role_eligibility_schedule_instances",),
)


def _group_members(table: str, holds: str, groups: FanOut) -> CollectionSpec:
    """The transitive members of each group a role system names: everyone inside it, nested groups expanded."""
    return CollectionSpec(
        table=table,
        api_version="v1.0",
        path="groups/{id}/transitiveMembers",
        description=f"Everyone inside each group that holds {holds}, nested groups expanded.",
        permission="GroupMember.Read.All",
        params={"$top": "999"},
        fan_out=groups,
    )


ARM_GROUP_COLLECTIONS: tuple[CollectionSpec, ...] = (
    _group_members("arm_group_transitive_members", "an Azure role", ARM_GROUPS),
)


# The other role systems Graph exposes (issue 20, item 3): Intune's and Exchange Online's RBAC, beta only (v1.0's
# roleManagement has the directory and entitlement management providers alone). Both are optional: without
# DeviceManagementRBAC.Read.All or RoleManagement.Read.Exchange the inventory of that system reads unknown.
M365_ROLE_COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        table="intune_role_definitions",
        api_version="beta",
        path="roleManagement/deviceManagement/roleDefinitions",
        description="Intune's role definitions (built-in and custom), from the unified RBAC API. Optional: without "
        "DeviceManagementRBAC.Read.All the Intune inventory reads unknown.",
        permission="DeviceManagementRBAC.Read.All",
    ),
    CollectionSpec(
        table="intune_role_assignments",
        api_version="beta",
        path="roleManagement/deviceManagement/roleAssignments",
        description="Intune's role assignments (unifiedRoleAssignmentMultiple): one role to several principals, "
        "usually security groups, over several directory or app scopes. Optional, as above.",
        permission="DeviceManagementRBAC.Read.All",
    ),
    CollectionSpec(
        table="exchange_role_definitions",
        api_version="beta",
        path="roleManagement/exchange/roleDefinitions",
        description="Exchange Online's management roles, for their names. Graph supports no application permission "
        "here (delegated RoleManagement.Read.Exchange only), so an app-only sign-in is refused: the Exchange role "
        "names stay unknown, and the assignments are still counted by role id.",
        permission="RoleManagement.Read.Exchange",
        delegated_only=True,
    ),
    CollectionSpec(
        table="exchange_role_assignments",
        api_version="beta",
        path="roleManagement/exchange/roleAssignments",
        description="Exchange Online's management role assignments (unifiedRoleAssignment); a principalId may be a "
        "path such as /ServicePrincipals/{id}. Optional, as above.",
        permission="RoleManagement.Read.Exchange",
    ),
)


# Intune and Exchange roles are assigned to any security group, role-assignable or not: the groups among the
# principals they name (a system not read names none: its raw table is then empty).
_M365_PRINCIPALS = (
    ("intune_role_assignments", "unnest(from_json(record -> 'principalIds', '[\"VARCHAR\"]'))"),
    ("exchange_role_assignments", "regexp_extract(record ->> 'principalId', '[^/]+$')"),
)
M365_ROLE_GROUPS = FanOut(
    "groups",
    "select parent.id from parent where parent.id in ("
    + " union ".join(_latest(table, column) for table, column in _M365_PRINCIPALS)
    + ")",
    also_reads=tuple(table for table, _ in _M365_PRINCIPALS),
)
M365_ROLE_GROUP_COLLECTIONS: tuple[CollectionSpec, ...] = (
    _group_members("m365_group_transitive_members", "an Intune or Exchange role", M365_ROLE_GROUPS),
)

# Every collection, in the order a run reads them: a fan-out after the tables its parents are read from.
COLLECTIONS = (
    CORE_COLLECTIONS
    + SURFACE_COLLECTIONS
    + USER_SETTINGS_COLLECTIONS
    + LOG_ANALYTICS_COLLECTIONS
    + ARM_COLLECTIONS
    + ARM_GROUP_COLLECTIONS
    + M365_ROLE_COLLECTIONS
    + M365_ROLE_GROUP_COLLECTIONS
)
COLLECTIONS_BY_TABLE = {spec.table: spec for spec in COLLECTIONS}
