"""Model objects dressed as the JSON Microsoft Graph returns (graph-pim.md, docs/audit-events.md).

Pure functions from model to dicts; key order follows Graph's own responses so the files read naturally.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.demo_tenant.access_changes import REQUEST_LEAD, AccessChange, AccessChanges, Change
from pipelines.demo_tenant.admin_tasks import AdminTasks
from pipelines.demo_tenant.catalog import CUSTOM_TIME_ZONE, HEADQUARTERS
from pipelines.demo_tenant.clock import HOUR, SECOND, Instant, from_datetime, iso, iso_duration, iso_or_none
from pipelines.demo_tenant.history import HistoryContext, eligibility_history, has_history
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import (
    ROOT_SCOPE,
    ActivationRequest,
    ActiveAssignment,
    AdministrativeUnit,
    AssignmentKind,
    Credential,
    Decision,
    Eligibility,
    Group,
    OutsidePimEvent,
    RoleDefinition,
    RolePolicy,
    ServicePrincipal,
    TenantModel,
    User,
)

Json = dict[str, Any]

# -- directory ----------------------------------------------------------------------------------------------


def tenant_info(model: TenantModel) -> Json:
    t = model.tenant
    return {"tenantId": t.id, "displayName": t.display_name, "defaultDomain": t.default_domain, "asOf": iso(t.as_of)}


def organization(model: TenantModel) -> Json:
    t = model.tenant
    capabilities = "Email, OfficeCommunicationsOnline"
    return {
        "id": t.id,
        "displayName": t.display_name,
        "tenantType": "AAD",
        "createdDateTime": iso(t.created_at),
        "countryLetterCode": HEADQUARTERS.country,
        "city": HEADQUARTERS.city,
        "preferredLanguage": "en-US",
        "onPremisesSyncEnabled": True,
        "onPremisesLastSyncDateTime": iso(t.as_of - 17 * 60 * SECOND),
        "verifiedDomains": [
            {
                "capabilities": capabilities,
                "isDefault": True,
                "isInitial": False,
                "name": t.default_domain,
                "type": "Managed",
            },
            {
                "capabilities": capabilities,
                "isDefault": False,
                "isInitial": True,
                "name": t.initial_domain,
                "type": "Managed",
            },
        ],
    }


def user(u: User) -> Json:
    return {
        "id": u.id,
        "displayName": u.display_name,
        "givenName": u.given_name,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "mail": u.mail,
        "userType": u.user_type,
        "accountEnabled": u.account_enabled,
        "department": u.department,
        "jobTitle": u.job_title,
        "officeLocation": u.office_location,
        "usageLocation": u.usage_location,
        "createdDateTime": iso(u.created_at),
        "onPremisesSyncEnabled": True if u.synced else None,
        "onPremisesImmutableId": u.on_premises_immutable_id,
    }


def mailbox_settings(u: User) -> Json | None:
    """What `users/{id}/mailboxSettings` answers, with the user's id (the emulator serves it without); None for a
    user without a mailbox, who gets Graph's 404 MailboxNotEnabledForRESTAPI instead.
    """
    if u.mailbox_time_zone is None:
        return None
    working_zone: Json = {"name": u.mailbox_time_zone}
    if u.mailbox_time_zone == CUSTOM_TIME_ZONE:
        # The shape Graph gives a user-defined zone: an offset from UTC and the rules of its daylight saving time.
        offset = int(ZoneInfo(u.time_zone).utcoffset(datetime(2026, 1, 15)).total_seconds() // 60)
        working_zone = {
            "@odata.type": "#microsoft.graph.customTimeZone",
            "name": CUSTOM_TIME_ZONE,
            "bias": offset,
            "standardOffset": {"time": "02:00:00.0000000", "dayOccurrence": 1, "dayOfWeek": "sunday", "month": 0},
            "daylightOffset": {
                "time": "02:00:00.0000000",
                "dayOccurrence": 1,
                "dayOfWeek": "sunday",
                "month": 0,
                "daylightBias": 0,
            },
        }
    return {
        "id": u.id,
        "archiveFolder": None,
        "timeZone": u.mailbox_time_zone,
        "dateFormat": "yyyy-MM-dd",
        "timeFormat": "HH:mm",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": "user",
        "automaticRepliesSetting": {"status": "disabled", "externalAudience": "none"},
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": working_zone,
        },
    }


def group(g: Group) -> Json:
    return {
        "id": g.id,
        "displayName": g.display_name,
        "description": g.description,
        "mailEnabled": g.mail_enabled,
        "mailNickname": g.mail_nickname,
        "securityEnabled": g.security_enabled,
        "isAssignableToRole": g.is_assignable_to_role,
        "groupTypes": list(g.group_types),
        "membershipRule": None,
        "createdDateTime": iso(g.created_at),
    }


def _password(c: Credential) -> Json:
    # Metadata only: Graph never returns secretText on a list, and the model has no secret to return.
    return {
        "keyId": c.key_id,
        "displayName": c.display_name,
        "startDateTime": iso(c.start),
        "endDateTime": iso(c.end),
        "customKeyIdentifier": None,
    }


def _certificate(c: Credential) -> Json:
    return {
        "keyId": c.key_id,
        "displayName": c.display_name,
        "startDateTime": iso(c.start),
        "endDateTime": iso(c.end),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "customKeyIdentifier": None,
    }


def service_principal(sp: ServicePrincipal) -> Json:
    return {
        "id": sp.id,
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "servicePrincipalType": sp.service_principal_type,
        "appOwnerOrganizationId": sp.app_owner_organization_id,
        "accountEnabled": True,
        "createdDateTime": iso(sp.created_at),
        "servicePrincipalNames": [sp.app_id],
        "tags": [],
        "passwordCredentials": [_password(c) for c in sp.passwords],
        "keyCredentials": [_certificate(c) for c in sp.certificates],
    }


def administrative_unit(unit: AdministrativeUnit) -> Json:
    return {"id": unit.id, "displayName": unit.display_name, "description": unit.description, "visibility": None}


def catalogue_role_id(role: RoleDefinition) -> str:
    """The id `roleDefinitions` lists a role under. A built-in role's id is its template id; a custom role's is not:
    its schedules, policies and audit events name it by its template id (the model's role id), as real tenants do
    (docs/tenant-format.md), so a reader must look it up by `templateId`."""
    return role.id if role.is_built_in else derived_guid(role.id, "role-definition-id")


def role_definition(role: RoleDefinition, *, beta: bool) -> Json:
    """The v1.0 shape, or beta's, which adds Microsoft's `isPrivileged` flag."""
    body: Json = {
        "id": catalogue_role_id(role),
        "description": role.description,
        "displayName": role.display_name,
        "isBuiltIn": role.is_built_in,
        "isEnabled": role.is_enabled,
        "resourceScopes": ["/"],
        "templateId": role.id,
        "version": "1" if role.is_built_in else None,
        "rolePermissions": [{"allowedResourceActions": list(role.allowed_actions), "condition": None}],
    }
    if beta:
        body["isPrivileged"] = role.is_privileged
    return body


# -- PIM policies -------------------------------------------------------------------------------------------


def policy_assignment(p: RolePolicy) -> Json:
    return {
        "id": f"{p.id}_{p.role_id}",
        "policyId": p.id,
        "scopeId": ROOT_SCOPE,
        "scopeType": "DirectoryRole",
        "roleDefinitionId": p.role_id,
    }


def policy(p: RolePolicy, role: RoleDefinition, editor: User) -> Json:
    return {
        "id": p.id,
        "displayName": "Directory Role",
        "description": f"PIM settings for {role.display_name}",
        "isOrganizationDefault": False,
        "scopeId": ROOT_SCOPE,
        "scopeType": "DirectoryRole",
        "lastModifiedDateTime": iso(p.last_modified_at),
        "lastModifiedBy": {"displayName": editor.display_name, "id": editor.id},
    }


_RULE = "#microsoft.graph.unifiedRoleManagementPolicy"


def _target(caller: str, level: str) -> Json:
    return {
        "caller": caller,
        "operations": ["all"],
        "level": level,
        "inheritableSettings": [],
        "enforcedSettings": [],
    }


def _expiration(rule_id: str, caller: str, level: str, required: bool, longest: Instant) -> Json:
    return {
        "@odata.type": f"{_RULE}ExpirationRule",
        "id": rule_id,
        "isExpirationRequired": required,
        "maximumDuration": iso_duration(longest),
        "target": _target(caller, level),
    }


def _enablement(rule_id: str, caller: str, level: str, enabled: list[str]) -> Json:
    return {
        "@odata.type": f"{_RULE}EnablementRule",
        "id": rule_id,
        "enabledRules": enabled,
        "target": _target(caller, level),
    }


def _notification(recipient: str, caller: str, level: str, extra: tuple[str, ...] = ()) -> Json:
    return {
        "@odata.type": f"{_RULE}NotificationRule",
        "id": f"Notification_{recipient}_{caller}_{level}",
        "notificationType": "Email",
        "recipientType": recipient,
        "notificationLevel": "All",
        "isDefaultRecipientsEnabled": True,
        "notificationRecipients": list(extra),
        "target": _target(caller, level),
    }


def policy_rules(p: RolePolicy, users: dict[str, User]) -> list[Json]:
    """All 17 rules of graph-pim.md section 3, in the order Graph lists them."""
    admin_assignment = ["Justification"] + (["MultiFactorAuthentication"] if p.mfa_on_active_assignment else [])
    end_user = [
        name
        for name, on in (
            ("MultiFactorAuthentication", p.mfa_on_activation),
            ("Justification", p.justification_on_activation),
            ("Ticketing", p.ticketing_on_activation),
        )
        if on
    ]
    approvers = [
        {"@odata.type": "#microsoft.graph.singleUser", "userId": a, "description": users[a].display_name}
        for a in p.approver_ids
    ]
    for kind, approver_id, description in p.listed_only_approvers:
        if kind == "group":
            approvers.append(
                {"@odata.type": "#microsoft.graph.groupMembers", "groupId": approver_id, "description": description}
            )
        else:
            approvers.append(
                {"@odata.type": "#microsoft.graph.singleUser", "userId": approver_id, "description": description}
            )
    rules = [
        _expiration(
            "Expiration_Admin_Eligibility", "Admin", "Eligibility", p.eligibility_expiration_required, p.max_eligibility
        ),
        _enablement("Enablement_Admin_Eligibility", "Admin", "Eligibility", []),
        _notification("Admin", "Admin", "Eligibility"),
        _notification("Requestor", "Admin", "Eligibility"),
        _notification("Approver", "Admin", "Eligibility"),
        _expiration("Expiration_Admin_Assignment", "Admin", "Assignment", p.active_expiration_required, p.max_active),
        _enablement("Enablement_Admin_Assignment", "Admin", "Assignment", admin_assignment),
        _notification("Admin", "Admin", "Assignment"),
        _notification("Requestor", "Admin", "Assignment"),
        _notification("Approver", "Admin", "Assignment"),
        {
            "@odata.type": f"{_RULE}ApprovalRule",
            "id": "Approval_EndUser_Assignment",
            "setting": {
                "isApprovalRequired": p.approval_required,
                "isApprovalRequiredForExtension": False,
                "isRequestorJustificationRequired": True,
                "approvalMode": "SingleStage",
                "approvalStages": [
                    {
                        "approvalStageTimeOutInDays": 1,
                        "isApproverJustificationRequired": True,
                        "escalationTimeInMinutes": 0,
                        "isEscalationEnabled": False,
                        "primaryApprovers": approvers,
                        "escalationApprovers": [],
                    }
                ],
            },
            "target": _target("EndUser", "Assignment"),
        },
        {
            "@odata.type": f"{_RULE}AuthenticationContextRule",
            "id": "AuthenticationContext_EndUser_Assignment",
            "isEnabled": p.authentication_context is not None,
            "claimValue": p.authentication_context,
            "target": _target("EndUser", "Assignment"),
        },
        _enablement("Enablement_EndUser_Assignment", "EndUser", "Assignment", end_user),
        _expiration("Expiration_EndUser_Assignment", "EndUser", "Assignment", True, p.max_activation),
        _notification("Admin", "EndUser", "Assignment", p.activation_alert_recipients),
        _notification("Requestor", "EndUser", "Assignment"),
        _notification("Approver", "EndUser", "Assignment"),
    ]
    return rules


# -- current state ------------------------------------------------------------------------------------------


def eligibility_instance(e: Eligibility) -> Json:
    return {
        "id": e.id,
        "principalId": e.principal_id,
        "roleDefinitionId": e.role_id,
        "directoryScopeId": e.directory_scope_id,
        "appScopeId": None,
        "startDateTime": iso(e.start),
        "endDateTime": iso_or_none(e.end),
        "memberType": "Direct",
        "roleEligibilityScheduleId": e.schedule_id,
    }


def assignment_instance(a: ActiveAssignment) -> Json:
    assert a.kind is not AssignmentKind.OUTSIDE_PIM, "outside-PIM assignments have no schedule instance"
    return {
        "id": a.id,
        "principalId": a.principal_id,
        "roleDefinitionId": a.role_id,
        "directoryScopeId": a.directory_scope_id,
        "appScopeId": None,
        "startDateTime": iso(a.start),
        "endDateTime": iso_or_none(a.end),
        "assignmentType": a.kind.value,
        "memberType": "Direct",
        "roleAssignmentOriginId": a.id,
        "roleAssignmentScheduleId": a.schedule_id,
    }


def role_assignment(a: ActiveAssignment) -> Json:
    return {
        "id": a.id,
        "principalId": a.principal_id,
        "roleDefinitionId": a.role_id,
        "directoryScopeId": a.directory_scope_id,
        "appScopeId": None,
        "resourceScope": a.directory_scope_id,
    }


# -- audit log ----------------------------------------------------------------------------------------------

REQUESTED = "Add member to role requested (PIM activation)"
APPROVAL_REQUESTED = "Add member to role approval requested (PIM activation)"
APPROVED = "Add member to role request approved (PIM activation)"
DENIED = "Add member to role request denied (PIM activation)"
REQUEST_EXPIRED = "PIM activation request expired"
CANCELED = "Add member to role canceled (PIM activation)"
COMPLETED = "Add member to role completed (PIM activation)"
RAN_OUT = "Remove member from role (PIM activation expired)"
DEACTIVATE_REQUESTED = "Remove member from role requested (PIM deactivate)"
DEACTIVATE_COMPLETED = "Remove member from role completed (PIM deactivate)"
OUTSIDE_PIM = "Add member to role outside of PIM (permanent)"

CORE_DIRECTORY_ADD = "Add member to role"
CORE_DIRECTORY_REMOVE = "Remove member from role"
CORE_DIRECTORY_ADD_ELIGIBLE = "Add eligible member to role"
CORE_DIRECTORY_REMOVE_ELIGIBLE = "Remove eligible member from role"
ACCESS_REVIEWS_CREATE = "Create request"
ACCESS_REVIEWS_APPROVED = "Request approved"
ACCESS_REVIEWS_DENIED = "Request denied"

# PIM's own actors (docs/audit-events.md): `Azure AD PIM` stands in the *user* slot of PIM's expiry rows, with no
# UPN or IP; Core Directory's mirror of every write PIM makes is initiated by the app `MS-PIM`, with no user.
AZURE_AD_PIM = {
    "user": {
        "id": "9dfd627f-3a5c-4b26-9a0e-5b3c1f0e7d21",
        "displayName": "Azure AD PIM",
        "userPrincipalName": None,
        "ipAddress": None,
    },
    "app": None,
}
MS_PIM_APP_ID = "01fc33a7-78ba-4d2f-a4b7-768e336e890e"
_MS_PIM = {
    "user": None,
    "app": {"appId": MS_PIM_APP_ID, "displayName": "MS-PIM", "servicePrincipalId": None, "servicePrincipalName": None},
}
# Until April 2024 PIM rows carried PIM verbs as operationType; since then some are Create/Update.
PIM_VERBS_UNTIL = from_datetime(datetime(2024, 4, 1, tzinfo=UTC))
_OPERATION = {
    REQUESTED: ("CreateRequestRoleActivation", "Create"),
    APPROVAL_REQUESTED: ("RequestApprovalRoleActivation", "Update"),
    COMPLETED: ("ActivateRole", "Update"),
    # Admin assignments through PIM: the verbs Microsoft's rules matched before April 2024 (graph-pim-real-world.md
    # sections 0.3 and 4); a timebound eligibility request had none attested, so it keeps the default.
    "Add eligible member to role in PIM requested (permanent)": ("CreateRequestPermanentEligibleRole", "Create"),
    "Add eligible member to role in PIM completed (permanent)": ("AssignEligibleRole", "Update"),
    "Add eligible member to role in PIM completed (timebound)": ("AssignEligibleRole", "Update"),
    "Add member to role in PIM requested (permanent)": ("CreateRequestPermanentGrantedRole", "Create"),
    "Add member to role in PIM requested (timebound)": ("CreateRequestGrantedRole", "Create"),
    "Add member to role in PIM completed (permanent)": ("Assign", "Update"),
    "Add member to role in PIM completed (timebound)": ("Assign", "Update"),
}
# The model's failure texts as the codes PIM writes in resultReason.
FAILURE_CODES = {
    "The MFA requirement of the role's activation policy was not satisfied.": (
        "RoleAssignmentRequestPolicyValidationFailed"
    ),
    "The role assignment could not be provisioned. Please try again later.": "RoleAssignmentExists",
    "The request was rejected because the eligibility is being updated.": (
        "RoleAssignmentRequestPolicyValidationFailed"
    ),
}
# PIM's scanner writes an assignment made outside PIM again about every two hours (docs/audit-events.md).
SCANNER_INTERVAL = 2 * HOUR
SCANNER_REPEATS = 4
CORE_DIRECTORY_LAG = 5 * SECOND  # the directory write lands before PIM's own row of an expiry


def _detail(key: str, value: str) -> Json:
    return {"key": key, "value": value}


def _operation(activity: str, at: Instant, default: str) -> str:
    verbs = _OPERATION.get(activity)
    if verbs is None:
        return default
    return verbs[0] if at < PIM_VERBS_UNTIL else verbs[1]


class AuditLog:
    """Builds the directory audits of PIM's work: PIM's own rows, Core Directory's mirror rows by MS-PIM and Access
    Reviews' parallel rows of approvals, in the shapes tests/fixtures/real_shapes holds. Actor and target dicts are
    made once per user and role and shared, which keeps an L tenant's millions of events cheap to build."""

    def __init__(self, model: TenantModel):
        self.model = model
        self.users = {u.id: u for u in model.users}
        self.principals: dict[str, Json] = {}
        for u in model.users:
            self.principals[u.id] = {
                "id": u.id,
                "displayName": u.display_name,
                "userPrincipalName": u.user_principal_name,
                "type": "User",
                "modifiedProperties": [],
            }
        for g in model.groups:
            self.principals[g.id] = {
                "id": g.id,
                "displayName": g.display_name,
                "type": "Group",
                "modifiedProperties": [],
            }
        for sp in model.service_principals:
            self.principals[sp.id] = {
                "id": sp.id,
                "displayName": sp.display_name,
                "type": "ServicePrincipal",
                "modifiedProperties": [],
            }
        self.roles = {
            r.id: {"id": r.id, "displayName": r.display_name, "type": "Role", "modifiedProperties": []}
            for r in model.roles
        }
        self.role_definitions = {r.id: r for r in model.roles}
        self.directory = {
            "id": model.tenant.id,
            "displayName": model.tenant.display_name,
            "type": "Directory",
            "modifiedProperties": [],
        }
        self.other = {"id": model.tenant.id, "type": "Other", "modifiedProperties": []}
        self._actors: dict[tuple[str, str], Json] = {}

    def _actor(self, user_id: str, ip_address: str) -> Json:
        key = (user_id, ip_address)
        actor = self._actors.get(key)
        if actor is None:
            u = self.users[user_id]
            actor = {
                "user": {
                    "id": u.id,
                    "displayName": u.display_name,
                    "userPrincipalName": u.user_principal_name,
                    "ipAddress": ip_address,
                },
                "app": None,
            }
            self._actors[key] = actor
        return actor

    def _targets(self, role_id: str, request_id: str, principal_id: str, layout: str = "common") -> list[Json]:
        """The targets in the order the reference gives per operation: the principal third in the common layout,
        last on PIM's expiry rows; a trailing Other on requests and successful completions."""
        request = {"id": request_id, "type": "Request", "modifiedProperties": []}
        role, principal = self.roles[role_id], self.principals[principal_id]
        if layout == "expiry":
            return [role, request, self.directory, principal]
        if layout == "with_other":
            return [role, request, principal, self.directory, self.other]
        return [role, request, principal, self.directory]

    def _event(
        self,
        step: str,
        activity: str,
        at: Instant,
        operation: str,
        initiated_by: Json,
        request: tuple[str, list[Json]],
        details: list[Json],
        *,
        result: str = "success",
        reason: str = "",
    ) -> tuple[Instant, Json]:
        """One PIM row; `request` is (request id, targets). Each step of PIM's asynchronous processing has its own
        correlationId."""
        request_id, targets = request
        return at, {
            "id": "PIM_" + derived_guid(request_id, step),
            "category": "RoleManagement",
            "correlationId": derived_guid(request_id, "correlation/" + step),
            "result": result,
            "resultReason": reason,
            "loggedByService": "PIM",
            "activityDisplayName": activity,
            "activityDateTime": iso(at),
            "operationType": _operation(activity, at, operation),
            "initiatedBy": initiated_by,
            "targetResources": targets,
            "additionalDetails": details,
        }

    def _core_directory(self, step: str, activity: str, at: Instant, request_id: str, role_id: str, principal_id: str):
        """Core Directory's mirror of the write PIM made, initiated by MS-PIM: the principal is the only target,
        the role only in its modifiedProperties."""
        role = self.role_definitions[role_id]
        principal = {
            **self.principals[principal_id],
            "modifiedProperties": [
                {"displayName": "Role.ObjectID", "oldValue": None, "newValue": f'"{role.id}"'},
                {"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{role.display_name}"'},
                {"displayName": "Role.TemplateId", "oldValue": None, "newValue": f'"{role.id}"'},
            ],
        }
        return at, {
            "id": "Directory_" + derived_guid(request_id, "directory/" + step),
            "category": "RoleManagement",
            "correlationId": derived_guid(request_id, "directory-correlation/" + step),
            "result": "success",
            "resultReason": "",
            "loggedByService": "Core Directory",
            "activityDisplayName": activity,
            "activityDateTime": iso(at),
            "operationType": "Assign" if activity.startswith("Add") else "Unassign",
            "initiatedBy": _MS_PIM,
            "targetResources": [principal],
            "additionalDetails": [],
        }

    def _access_reviews(self, step: str, activity: str, at: Instant, request_id: str, actor: Json):
        """Access Reviews' parallel record of a PIM approval (category UserManagement, an AADERM_ id): the request
        id is its first target."""
        user = actor["user"]
        return at, {
            "id": "AADERM_" + derived_guid(request_id, "access-reviews/" + step).replace("-", ""),
            "category": "UserManagement",
            "correlationId": derived_guid(request_id, "access-reviews-correlation/" + step),
            "result": "success",
            "resultReason": "",
            "loggedByService": "Access Reviews",
            "activityDisplayName": activity,
            "activityDateTime": iso(at),
            "operationType": "Add" if activity == ACCESS_REVIEWS_CREATE else "Update",
            "initiatedBy": actor,
            "targetResources": [{"id": request_id, "displayName": None, "type": "Other", "modifiedProperties": []}],
            "additionalDetails": [_detail("oid", user["id"]), _detail("ipaddr", user["ipAddress"])],
        }

    def activation_events(self, r: ActivationRequest) -> list[tuple[Instant, Json]]:
        """Every row of one request's lifecycle, oldest first (docs/audit-events.md): one RoleAssignmentRequestId
        across PIM's rows, a correlationId per step."""
        requestor = self._actor(r.principal_id, r.ip_address)
        request_id = r.request_id
        request = (request_id, self._targets(r.role_id, request_id, r.principal_id))
        key = _detail("RoleAssignmentRequestId", request_id)
        ip = _detail("ipaddr", r.ip_address)
        asked = [
            _detail("AuditType", "CreateRequestRoleActivation"),
            key,
            _detail("Justification", r.justification),
            _detail("StartTime", iso(r.requested_at)),
            _detail("ExpirationTime", iso(r.requested_end)),
            _detail("IsActivationRequireApproval", "true" if r.approval_requested_at is not None else "false"),
        ]
        # Absent from most rows; when present, "True" with a capital (docs/audit-events.md).
        if r.authenticated_with_mfa and int(derived_guid(request_id, "mfa-detail")[:2], 16) < 96:
            asked.append(_detail("IsAuthenticatedWithMfa", "True"))
        asked.append(ip)
        with_other = (request_id, self._targets(r.role_id, request_id, r.principal_id, "with_other"))
        events = [
            self._event(
                "requested", REQUESTED, r.requested_at, "Add", requestor, with_other, asked, reason=r.justification
            )
        ]
        if r.approval_requested_at is not None:
            at = r.approval_requested_at
            details = [key, _detail("Justification", r.justification), ip]
            events.append(
                self._event(
                    "approval", APPROVAL_REQUESTED, at, "Add", requestor, request, details, reason=r.justification
                )
            )
            events.append(self._access_reviews("create", ACCESS_REVIEWS_CREATE, at, request_id, requestor))
        if r.decided_at is not None and r.approver_id is not None:
            approved = r.decision is Decision.APPROVED
            approver = self._actor(r.approver_id, self.users[r.approver_id].ip_address)
            details = [key, _detail("ipaddr", self.users[r.approver_id].ip_address)] if approved else [key]
            events.append(
                self._event(
                    "decision",
                    APPROVED if approved else DENIED,
                    r.decided_at,
                    "Update",
                    approver,
                    request,
                    details,
                    reason=r.decision_reason,
                )
            )
            mirror = ACCESS_REVIEWS_APPROVED if approved else ACCESS_REVIEWS_DENIED
            events.append(self._access_reviews("decision", mirror, r.decided_at, request_id, approver))
        if r.approval_expired_at is not None:
            events.append(
                self._event("timeout", REQUEST_EXPIRED, r.approval_expired_at, "Update", AZURE_AD_PIM, request, [key])
            )
        if r.canceled_at is not None:
            events.append(self._event("canceled", CANCELED, r.canceled_at, "Update", requestor, request, [key, ip]))
        if r.completed_at is not None:
            granted_end = r.granted_end
            succeeded = r.failure_reason is None and granted_end is not None
            if succeeded:
                targets, result, reason = with_other, "success", r.justification
                details = [
                    _detail("AuditType", "ActivateRole"),
                    key,
                    _detail("StartTime", iso(r.completed_at)),
                    _detail("ExpirationTime", iso(granted_end or r.completed_at)),
                    _detail("Justification", r.justification),
                    ip,
                ]
            else:
                targets, result = request, "failure"
                reason = FAILURE_CODES.get(r.failure_reason or "", r.failure_reason or "")
                details = [key, _detail("AuditType", "ActivateRole")]
            events.append(
                self._event(
                    "completed",
                    COMPLETED,
                    r.completed_at,
                    "Add",
                    requestor,
                    targets,
                    details,
                    result=result,
                    reason=reason,
                )
            )
            if succeeded:
                events.append(
                    self._core_directory(
                        "add",
                        CORE_DIRECTORY_ADD,
                        r.completed_at + CORE_DIRECTORY_LAG,
                        request_id,
                        r.role_id,
                        r.principal_id,
                    )
                )
        if r.deactivation is not None:
            # The activation's own request id, a correlationId of each step's own (docs/audit-events.md).
            d = r.deactivation
            details = [key, _detail("AuditType", "CreateRoleRemovalRequest"), ip]
            events.append(
                self._event(
                    "deactivate-requested", DEACTIVATE_REQUESTED, d.requested_at, "Delete", requestor, request, details
                )
            )
            details = [key, _detail("AuditType", "RemoveActivatedRole"), ip]
            events.append(
                self._event(
                    "deactivate-completed", DEACTIVATE_COMPLETED, d.completed_at, "Delete", requestor, request, details
                )
            )
            events.append(
                self._core_directory(
                    "remove",
                    CORE_DIRECTORY_REMOVE,
                    d.completed_at + CORE_DIRECTORY_LAG,
                    request_id,
                    r.role_id,
                    r.principal_id,
                )
            )
        if r.ran_out_at is not None:
            events.append(
                self._core_directory(
                    "remove",
                    CORE_DIRECTORY_REMOVE,
                    r.ran_out_at - CORE_DIRECTORY_LAG,
                    request_id,
                    r.role_id,
                    r.principal_id,
                )
            )
            expiry = (request_id, self._targets(r.role_id, request_id, r.principal_id, "expiry"))
            details = [_detail("AuditType", "RemoveActivatedRole"), _detail("ActionType", "Revoke"), key]
            events.append(self._event("ran-out", RAN_OUT, r.ran_out_at, "Delete", AZURE_AD_PIM, expiry, details))
        events.sort(key=itemgetter(0))
        return events

    def outside_pim_events(self, event: OutsidePimEvent) -> list[tuple[Instant, Json]]:
        """The assignment as PIM's alert scanner logs it: at the assignment and again about every two hours, each
        row with its own RoleAssignmentRequestId and StartTime = the row's time, attributed to the admin who made
        it. Only the first is the assignment (metrics.md)."""
        a = event.assignment
        admin = self.users[a.created_by] if a.created_by else None
        actor = self._actor(admin.id, admin.ip_address) if admin else AZURE_AD_PIM
        rows = []
        for repeat in range(SCANNER_REPEATS + 1):
            request_id = event.request_id if repeat == 0 else derived_guid(event.request_id, f"scan/{repeat}")
            at = event.at + repeat * SCANNER_INTERVAL + (repeat and int(request_id[:4], 16) % (20 * 60)) * SECOND
            if at >= self.model.tenant.as_of:
                break
            request = (request_id, self._targets(a.role_id, request_id, a.principal_id))
            details = [
                _detail("AuditType", "RoleElevatedOutsidePimAlert"),
                _detail("RoleAssignmentRequestId", request_id),
                _detail("StartTime", iso(at)),
            ]
            rows.append(self._event("outside-pim", OUTSIDE_PIM, at, "Add", actor, request, details))
        return rows

    def group_activation_events(self) -> list[tuple[Instant, Json]]:
        """PIM for Groups activations, running at as_of or ended within the year, in their own shape: category
        GroupManagement, the access (`member`) as the Role target and the group as the resource after the person
        (docs/audit-events.md). pimlens does not read them as role activations."""
        from pipelines.demo_tenant.surfaces.context import Context  # surfaces import this module
        from pipelines.demo_tenant.surfaces.groups import PimGroups

        rows = []
        groups = PimGroups(Context(self.model))
        for g in groups.grants + groups.past_activations:
            if g.assignment_type != "activated" or g.principal_id not in self.users or g.end is None:
                continue
            request_id = derived_guid(g.id, "group-activation")
            access = {"id": g.access_id, "displayName": g.access_id.title(), "type": "Role", "modifiedProperties": []}
            request = {"id": request_id, "type": "Request", "modifiedProperties": []}
            targets = [access, request, self.principals[g.principal_id], self.principals[g.group_id]]
            details = [
                _detail("RoleAssignmentRequestId", request_id),
                _detail("AuditType", "ActivateRole"),
                _detail("StartTime", iso(g.start)),
                _detail("ExpirationTime", iso(g.end)),
            ]
            user = self.users[g.principal_id]
            actor = self._actor(user.id, user.ip_address)
            at, row = self._event(
                "group-completed",
                COMPLETED,
                g.start,
                "Add",
                actor,
                (request_id, targets),
                details,
                reason="Group membership for the change window",
            )
            rows.append((at, {**row, "category": "GroupManagement"}))
        return rows

    def azure_activation_events(self) -> list[tuple[Instant, Json]]:
        """PIM for Azure resources activations, running at as_of or ended within the year, in their own shape:
        category ResourceManagement, the Azure role (its role definition GUID) as the Role target and the
        subscription's ARM path as the resource after the person (docs/audit-events.md). pimlens does not read them
        as role activations."""
        from pipelines.demo_tenant.surfaces.arm import AzureRbac  # surfaces import this module
        from pipelines.demo_tenant.surfaces.context import Context

        rows = []
        for a in AzureRbac(Context(self.model)).activations:
            request_id = derived_guid(a.assignment_id, "azure-activation")
            role = {
                "id": a.role_definition_id.rsplit("/", 1)[-1],
                "displayName": a.role_name,
                "type": "Role",
                "modifiedProperties": [],
            }
            request = {"id": request_id, "type": "Request", "modifiedProperties": []}
            resource = {"id": a.scope, "displayName": a.scope_name, "type": "Other", "modifiedProperties": []}
            targets = [role, request, self.principals[a.principal_id], resource]
            details = [
                _detail("RoleAssignmentRequestId", request_id),
                _detail("RoleDefinitionOriginId", a.role_definition_id),
            ]
            user = self.users[a.principal_id]
            at, row = self._event(
                "azure-completed",
                COMPLETED,
                a.began,
                "Add",
                self._actor(user.id, user.ip_address),
                (request_id, targets),
                details,
                reason=f"Change on {a.scope_name}",
            )
            rows.append((at, {**row, "category": "ResourceManagement"}))
        return rows

    def access_change_events(self, c: AccessChange) -> list[tuple[Instant, Json]]:
        """The rows of one admin change through PIM, or of PIM expiring an eligibility (access_changes.py), in the
        layouts of the reference (graph-pim-real-world.md sections 5, 7 and 8): PIM's requested row (an active
        assignment's names the principal first and carries its request id only as the Request target) and completed
        row by the admin, with `RequestId`, `StartTime` and, time-bound only, `ExpirationTime`; on expiry only PIM's
        completed removal, by `Azure AD PIM`; and Core Directory's mirror by MS-PIM."""
        request_id = c.request_id
        request = (request_id, self._targets(c.role_id, request_id, c.principal_id))
        key = _detail("RequestId", request_id)
        schedule = [_detail("StartTime", iso(c.at))]
        if c.end is not None:
            schedule.append(_detail("ExpirationTime", iso(c.end)))
        if c.change is Change.ELIGIBLE_EXPIRED:
            activity = "Remove eligible member from role in PIM completed (timebound)"
            mirror_at = c.at - CORE_DIRECTORY_LAG
            return [
                self._core_directory(
                    "expired", CORE_DIRECTORY_REMOVE_ELIGIBLE, mirror_at, request_id, c.role_id, c.principal_id
                ),
                self._event("expired", activity, c.at, "Delete", AZURE_AD_PIM, request, [key]),
            ]
        assert c.actor_id is not None
        admin = self.users[c.actor_id]
        actor = self._actor(admin.id, admin.ip_address)
        ip = _detail("ipaddr", admin.ip_address)
        if c.change is Change.ELIGIBLE_ADDED:
            why = "Eligible for the role's duties"
            noun, mirror = "eligible member", CORE_DIRECTORY_ADD_ELIGIBLE
            justification = _detail("Justification", why)
            asked = (request, [key, justification, *schedule, ip])
            granted = (request, [key, justification, *schedule])
        else:
            why = "Standing access for the role's duties"
            noun, mirror = "member", CORE_DIRECTORY_ADD
            justification = _detail("Justification", why)
            role = self.role_definitions[c.role_id]
            principal_first = [
                self.principals[c.principal_id],
                {"id": request_id, "type": "Request", "modifiedProperties": []},
                self.roles[c.role_id],
                self.directory,
            ]
            asked = ((request_id, principal_first), [justification, ip])
            origin = [
                _detail("RoleDefinitionOriginId", role.id),
                _detail("RoleDefinitionOriginType", "BuiltInRole" if role.is_built_in else "CustomRole"),
                _detail("TemplateId", role.id),
            ]
            with_other = (request_id, self._targets(c.role_id, request_id, c.principal_id, "with_other"))
            granted = (with_other, [*origin, *schedule, justification, key, ip])
        return [
            self._event(
                "admin-requested",
                f"Add {noun} to role in PIM requested ({c.duration})",
                c.at - REQUEST_LEAD,
                "Create",
                actor,
                asked[0],
                asked[1],
                reason=why,
            ),
            self._event(
                "admin-completed",
                f"Add {noun} to role in PIM completed ({c.duration})",
                c.at,
                "Update",
                actor,
                granted[0],
                granted[1],
                reason=why,
            ),
            self._core_directory("admin-add", mirror, c.at + CORE_DIRECTORY_LAG, request_id, c.role_id, c.principal_id),
        ]

    def _stream(self, requests: Iterable[ActivationRequest]) -> Iterator[tuple[Instant, Json]]:
        for request in requests:
            yield from self.activation_events(request)

    def events(self, since: Instant | None = None) -> Iterator[Json]:
        """The directory audits at or after `since` (all of them without it), oldest first: PIM's events merged
        lazily from each eligibility's own history, and the role holders' everyday admin tasks (admin_tasks.py)."""
        context = HistoryContext.of(self.model)
        streams: list[Iterator[tuple[Instant, Json]]] = [
            self._stream(eligibility_history(context, e)) for e in self.model.eligibilities if has_history(e)
        ]
        streams.append(
            iter(
                sorted(
                    (row for e in self.model.outside_pim_events for row in self.outside_pim_events(e)),
                    key=itemgetter(0),
                )
            )
        )
        streams.append(iter(sorted(self.group_activation_events(), key=itemgetter(0))))
        streams.append(
            iter(
                sorted(
                    (row for c in AccessChanges(self.model).changes for row in self.access_change_events(c)),
                    key=itemgetter(0),
                )
            )
        )
        streams.append(iter(sorted(self.azure_activation_events(), key=itemgetter(0))))
        streams.append(AdminTasks(self.model).events())
        for at, event in heapq.merge(*streams, key=itemgetter(0)):
            if since is None or at >= since:
                yield event
