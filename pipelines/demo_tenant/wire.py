"""Model objects dressed as the JSON Microsoft Graph returns (graph-pim.md, docs/audit-events.md).

Pure functions from model to dicts; key order follows Graph's own responses so the files read naturally.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.demo_tenant.admin_tasks import AdminTasks
from pipelines.demo_tenant.catalog import CUSTOM_TIME_ZONE, HEADQUARTERS
from pipelines.demo_tenant.clock import SECOND, Instant, iso, iso_duration, iso_or_none
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


def role_definition(role: RoleDefinition, *, beta: bool) -> Json:
    """The v1.0 shape, or beta's, which adds Microsoft's `isPrivileged` flag."""
    body: Json = {
        "id": role.id,
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

_MS_PIM = {"user": None, "app": {"displayName": "MS-PIM", "appId": None, "servicePrincipalId": None}}


def _detail(key: str, value: str) -> Json:
    return {"key": key, "value": value}


class AuditLog:
    """Builds the PIM directory audits. Actor and target dicts are made once per user and role and shared,
    which keeps an L tenant's two million events cheap to build."""

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
        self.directory = {
            "id": model.tenant.id,
            "displayName": model.tenant.display_name,
            "type": "Directory",
            "modifiedProperties": [],
        }
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

    def _targets(self, role_id: str, request_id: str, principal_id: str) -> list[Json]:
        request = {"id": request_id, "type": "Request", "modifiedProperties": []}
        return [self.roles[role_id], request, self.principals[principal_id], self.directory]

    def _event(
        self,
        step: str,
        activity: str,
        at: Instant,
        operation: str,
        initiated_by: Json,
        request: tuple[str, str, list[Json]],
        details: list[Json] | None = None,
        *,
        result: str = "success",
        reason: str = "",
    ) -> tuple[Instant, Json]:
        """One event; `request` is (request id, correlation id, targets), shared by a lifecycle's events."""
        request_id, correlation_id, targets = request
        return at, {
            "id": "PIM_" + derived_guid(request_id, step),
            "category": "RoleManagement",
            "correlationId": correlation_id,
            "result": result,
            "resultReason": reason,
            "loggedByService": "PIM",
            "activityDisplayName": activity,
            "activityDateTime": iso(at),
            "operationType": operation,
            "initiatedBy": initiated_by,
            "targetResources": targets,
            "additionalDetails": [_detail("RequestId", request_id), *(details or [])],
        }

    def activation_events(self, r: ActivationRequest) -> list[tuple[Instant, Json]]:
        """Every event of one request's lifecycle, oldest first (docs/audit-events.md)."""
        requestor = self._actor(r.principal_id, r.ip_address)
        request = (r.request_id, r.correlation_id, self._targets(r.role_id, r.request_id, r.principal_id))
        asked = [
            _detail("Justification", r.justification),
            _detail("StartTime", iso(r.requested_at)),
            _detail("ExpirationTime", iso(r.requested_end)),
        ]
        if r.ticket is not None:
            asked += [_detail("TicketNumber", r.ticket.number), _detail("TicketSystem", r.ticket.system)]
        events = [
            self._event(
                "requested", REQUESTED, r.requested_at, "Add", requestor, request, asked, reason=r.justification
            )
        ]
        if r.approval_requested_at is not None:
            at = r.approval_requested_at
            events.append(
                self._event("approval", APPROVAL_REQUESTED, at, "Add", requestor, request, reason=r.justification)
            )
        if r.decided_at is not None and r.approver_id is not None:
            activity = APPROVED if r.decision is Decision.APPROVED else DENIED
            approver = self._actor(r.approver_id, self.users[r.approver_id].ip_address)
            events.append(
                self._event("decision", activity, r.decided_at, "Update", approver, request, reason=r.decision_reason)
            )
        if r.approval_expired_at is not None:
            reason = "No approver responded before the request expired"
            events.append(
                self._event(
                    "timeout", REQUEST_EXPIRED, r.approval_expired_at, "Update", _MS_PIM, request, reason=reason
                )
            )
        if r.canceled_at is not None:
            reason = "Canceled by requestor"
            events.append(self._event("canceled", CANCELED, r.canceled_at, "Update", requestor, request, reason=reason))
        if r.completed_at is not None:
            failed = r.failure_reason is not None
            granted_end = r.granted_end
            start, end = (
                (r.requested_at, r.requested_end) if failed or granted_end is None else (r.completed_at, granted_end)
            )
            done = [
                _detail("StartTime", iso(start)),
                _detail("ExpirationTime", iso(end)),
                _detail("IsAuthenticatedWithMfa", "true" if r.authenticated_with_mfa else "false"),
            ]
            result, reason = ("failure", r.failure_reason or "") if failed else ("success", r.justification)
            events.append(
                self._event(
                    "completed",
                    COMPLETED,
                    r.completed_at,
                    "Add",
                    requestor,
                    request,
                    done,
                    result=result,
                    reason=reason,
                )
            )
        if r.deactivation is not None:
            d = r.deactivation
            own = (d.request_id, d.correlation_id, self._targets(r.role_id, d.request_id, r.principal_id))
            events.append(self._event("requested", DEACTIVATE_REQUESTED, d.requested_at, "Delete", requestor, own))
            events.append(self._event("completed", DEACTIVATE_COMPLETED, d.completed_at, "Delete", requestor, own))
        if r.ran_out_at is not None:
            reason = "Role activation expired"
            events.append(self._event("ran-out", RAN_OUT, r.ran_out_at, "Delete", _MS_PIM, request, reason=reason))
        return events

    def outside_pim_event(self, event: OutsidePimEvent) -> tuple[Instant, Json]:
        a = event.assignment
        admin = self.users[a.created_by] if a.created_by else None
        actor = self._actor(admin.id, admin.ip_address) if admin else _MS_PIM
        request = (event.request_id, event.correlation_id, self._targets(a.role_id, event.request_id, a.principal_id))
        reason = "Permanent role assignment created outside of PIM"
        return self._event("outside-pim", OUTSIDE_PIM, event.at, "Add", actor, request, reason=reason)

    def _stream(self, requests: Iterable[ActivationRequest]) -> Iterator[tuple[Instant, Json]]:
        for request in requests:
            yield from self.activation_events(request)

    def events(self) -> Iterator[Json]:
        """All directory audits, oldest first: PIM's events merged lazily from each eligibility's own history,
        and the role holders' everyday admin tasks (admin_tasks.py)."""
        context = HistoryContext.of(self.model)
        streams: list[Iterator[tuple[Instant, Json]]] = [
            self._stream(eligibility_history(context, e)) for e in self.model.eligibilities if has_history(e)
        ]
        streams.append(
            iter(sorted((self.outside_pim_event(e) for e in self.model.outside_pim_events), key=itemgetter(0)))
        )
        streams.append(AdminTasks(self.model).events())
        for _, event in heapq.merge(*streams, key=itemgetter(0)):
            yield event
