"""Azure RBAC and Azure-resource PIM (ARM `Microsoft.Authorization`, graph-pim.md §5) for one or two
subscriptions, as files under `arm/` at their ARM URL path (docs/tenant-format.md).

Admins are eligible for Owner, Contributor and User Access Administrator; a couple are activated now; some
apps and groups hold standing roles, and a few standing assignments were made outside PIM (a roleAssignment
with no schedule behind it).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, Instant, iso, iso_duration, iso_or_none
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import PrincipalType
from pipelines.demo_tenant.surfaces.context import Context, Json

AUTHORIZATION = "providers/Microsoft.Authorization"
# name -> (GUID, privileged, actions)
ROLES: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", True, ("*",)),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c", True, ("*",)),
    "User Access Administrator": (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        True,
        ("*/read", "Microsoft.Authorization/*"),
    ),
    "Role Based Access Control Administrator": (
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        True,
        ("Microsoft.Authorization/roleAssignments/write",),
    ),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", False, ("*/read",)),
}
SUBSCRIPTION_NAMES = ("Production", "Development")
API_VERSIONS = {"schedules": "2020-10-01", "rbac": "2022-04-01"}


def _principal_type(kind: PrincipalType) -> str:
    return {PrincipalType.USER: "User", PrincipalType.GROUP: "Group"}.get(kind, "ServicePrincipal")


@dataclass(frozen=True)
class AzureActivation:
    """A PIM for Azure resources activation running at as_of."""

    assignment_id: str  # the ARM role assignment it made
    scope: str  # the ARM path of the resource (a subscription)
    scope_name: str
    role_definition_id: str  # the ARM id of the role definition
    role_name: str
    principal_id: str
    began: Instant


class AzureRbac:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rng = ctx.rng("arm")
        count = 1 if ctx.model.tenant.size == "S" else 2
        self.subscriptions = [(guid(self.rng), SUBSCRIPTION_NAMES[i]) for i in range(count)]
        self.management_group = f"mg-{ctx.model.tenant.initial_domain.split('.')[0]}"
        self.files: dict[str, list[Json]] = {}
        # The activations running at as_of, for PIM's audit rows of them (wire.AuditLog.azure_activation_events).
        self.activations: list[AzureActivation] = []
        for sub_id, name in self.subscriptions:
            self._subscription(sub_id, name)
        self._management_group()

    def _role_id(self, scope: str, name: str) -> str:
        return f"{scope}/{AUTHORIZATION}/roleDefinitions/{ROLES[name][0]}"

    def _expanded(self, scope: str, scope_name: str, scope_type: str, role: str, principal: str) -> Json:
        user = self.ctx.users.get(principal)
        return {
            "scope": {"id": scope, "displayName": scope_name, "type": scope_type},
            "roleDefinition": {"id": self._role_id(scope, role), "displayName": role, "type": "BuiltInRole"},
            "principal": {
                "id": principal,
                "displayName": self.ctx.display_name(principal),
                "email": user.mail if user else None,
                "type": _principal_type(self.ctx.principal_type(principal)),
            },
        }

    def _arm(self, scope: str, collection: str, name: str, properties: Json) -> Json:
        return {
            "id": f"{scope}/{AUTHORIZATION}/{collection}/{name}",
            "name": name,
            "type": f"Microsoft.Authorization/{collection}",
            "properties": properties,
        }

    def _subscription(self, sub_id: str, display: str) -> None:
        rng, ctx, as_of = self.rng, self.ctx, self.ctx.as_of
        scope = f"/subscriptions/{sub_id}"
        base = f"arm/subscriptions/{sub_id}/{AUTHORIZATION}"
        people = ctx.role_holders or [u.id for u in ctx.model.users]
        apps = [sp for sp in ctx.model.service_principals[1:]]
        role_groups = [g for g in ctx.model.groups if g.is_assignable_to_role]

        definitions = [
            self._arm(
                scope,
                "roleDefinitions",
                guid_,
                {
                    "roleName": name,
                    "type": "BuiltInRole",
                    "description": f"Azure built-in role {name}",
                    "assignableScopes": ["/"],
                    "permissions": [
                        {"actions": list(actions), "notActions": [], "dataActions": [], "notDataActions": []}
                    ],
                    "createdOn": "2015-02-02T21:55:09.880Z",
                    "updatedOn": "2024-04-16T18:45:22.045Z",
                    "createdBy": None,
                    "updatedBy": None,
                },
            )
            for name, (guid_, _, actions) in ROLES.items()
        ]

        eligibilities: list[Json] = []
        active: list[Json] = []
        assignments: list[Json] = []

        def expanded(role: str, principal: str) -> Json:
            return self._expanded(scope, display, "subscription", role, principal)

        def assignment(role: str, principal: str, created: Instant, description: str) -> str:
            name = guid(rng)
            assignments.append(
                self._arm(
                    scope,
                    "roleAssignments",
                    name,
                    {
                        "roleDefinitionId": self._role_id(scope, role),
                        "principalId": principal,
                        "principalType": _principal_type(ctx.principal_type(principal)),
                        "scope": scope,
                        "condition": None,
                        "conditionVersion": None,
                        "createdOn": iso(created),
                        "updatedOn": iso(created),
                        "createdBy": ctx.security_admins[0],
                        "updatedBy": ctx.security_admins[0],
                        "description": description,
                        "delegatedManagedIdentityResourceId": None,
                    },
                )
            )
            return assignments[-1]["id"]

        schedules = f"{scope}/{AUTHORIZATION}/roleAssignmentSchedules"
        eligibility_schedules = f"{scope}/{AUTHORIZATION}/roleEligibilitySchedules"
        chosen = rng.sample(people, min(len(people), rng.randint(4, 10)))
        for index, principal in enumerate(chosen):
            role = ("Owner", "Contributor", "User Access Administrator", "Contributor")[index % 4]
            start = as_of - rng.randint(20, 300) * DAY
            end = start + 365 * DAY if rng.random() < 0.6 else None
            schedule = guid(rng)
            name = guid(rng)
            eligibilities.append(
                self._arm(
                    scope,
                    "roleEligibilityScheduleInstances",
                    name,
                    {
                        "scope": scope,
                        "roleDefinitionId": self._role_id(scope, role),
                        "principalId": principal,
                        "principalType": "User",
                        "status": "Provisioned",
                        "memberType": "Direct",
                        "roleEligibilityScheduleId": f"{scope}/{AUTHORIZATION}/roleEligibilitySchedules/{schedule}",
                        "startDateTime": iso(start),
                        "endDateTime": iso_or_none(end),
                        "createdOn": iso(start),
                        "condition": None,
                        "conditionVersion": None,
                        "expandedProperties": expanded(role, principal),
                    },
                )
            )
            if index < 2:  # activated right now
                began = as_of - rng.randint(10 * MINUTE, 3 * HOUR)
                assignment_schedule = guid(rng)
                origin = assignment(role, principal, began, "")
                self.activations.append(
                    AzureActivation(origin, scope, display, self._role_id(scope, role), role, principal, began)
                )
                active.append(
                    self._arm(
                        scope,
                        "roleAssignmentScheduleInstances",
                        guid(rng),
                        {
                            "scope": scope,
                            "roleDefinitionId": self._role_id(scope, role),
                            "principalId": principal,
                            "principalType": "User",
                            "status": "Provisioned",
                            "assignmentType": "Activated",
                            "memberType": "Direct",
                            "startDateTime": iso(began),
                            "endDateTime": iso(began + 8 * HOUR),
                            "roleAssignmentScheduleId": f"{schedules}/{assignment_schedule}",
                            "originRoleAssignmentId": origin,
                            "linkedRoleEligibilityScheduleId": f"{eligibility_schedules}/{schedule}",
                            "linkedRoleEligibilityScheduleInstanceId": eligibilities[-1]["id"],
                            "createdOn": iso(began),
                            "condition": None,
                            "conditionVersion": None,
                            "expandedProperties": expanded(role, principal),
                        },
                    )
                )

        standing = [(sp.id, "Contributor") for sp in apps[:2]] + [(g.id, "Reader") for g in role_groups[:1]]
        for principal, role in standing:
            created = as_of - rng.randint(30, 800) * DAY
            origin = assignment(role, principal, created, "Standing access managed in PIM")
            active.append(
                self._arm(
                    scope,
                    "roleAssignmentScheduleInstances",
                    guid(rng),
                    {
                        "scope": scope,
                        "roleDefinitionId": self._role_id(scope, role),
                        "principalId": principal,
                        "principalType": _principal_type(ctx.principal_type(principal)),
                        "status": "Provisioned",
                        "assignmentType": "Assigned",
                        "memberType": "Direct",
                        "startDateTime": iso(created),
                        "endDateTime": None,
                        "roleAssignmentScheduleId": f"{scope}/{AUTHORIZATION}/roleAssignmentSchedules/{guid(rng)}",
                        "originRoleAssignmentId": origin,
                        "linkedRoleEligibilityScheduleId": None,
                        "linkedRoleEligibilityScheduleInstanceId": None,
                        "createdOn": iso(created),
                        "condition": None,
                        "conditionVersion": None,
                        "expandedProperties": expanded(role, principal),
                    },
                )
            )
        # Outside PIM: a standing Owner for an app and one for a person, with no schedule behind them.
        for principal in [apps[-1].id, *rng.sample(people, min(1, len(people)))]:
            assignment("Owner", principal, as_of - rng.randint(100, 900) * DAY, "")

        policies, policy_assignments = [], []
        approver = ctx.security_admins[0]
        for name, (role_guid, privileged, _) in ROLES.items():
            policy = guid(rng)
            rules = [
                {
                    "id": "Expiration_Admin_Eligibility",
                    "ruleType": "RoleManagementPolicyExpirationRule",
                    "isExpirationRequired": privileged,
                    "maximumDuration": iso_duration(365 * DAY),
                    "target": _target("Admin", "Eligibility"),
                },
                {
                    "id": "Expiration_EndUser_Assignment",
                    "ruleType": "RoleManagementPolicyExpirationRule",
                    "isExpirationRequired": True,
                    "maximumDuration": iso_duration(8 * HOUR),
                    "target": _target("EndUser", "Assignment"),
                },
                {
                    "id": "Enablement_EndUser_Assignment",
                    "ruleType": "RoleManagementPolicyEnablementRule",
                    "enabledRules": ["MultiFactorAuthentication", "Justification"] if privileged else ["Justification"],
                    "target": _target("EndUser", "Assignment"),
                },
                {
                    "id": "Approval_EndUser_Assignment",
                    "ruleType": "RoleManagementPolicyApprovalRule",
                    "setting": {
                        "isApprovalRequired": name == "Owner",
                        "isApprovalRequiredForExtension": False,
                        "isRequestorJustificationRequired": True,
                        "approvalMode": "SingleStage",
                        "approvalStages": [
                            {
                                "approvalStageTimeOutInDays": 1,
                                "isApproverJustificationRequired": True,
                                "escalationTimeInMinutes": 0,
                                "isEscalationEnabled": False,
                                "primaryApprovers": [
                                    {
                                        "id": approver,
                                        "description": ctx.display_name(approver),
                                        "isBackup": False,
                                        "userType": "User",
                                    }
                                ],
                                "escalationApprovers": [],
                            }
                        ],
                    },
                    "target": _target("EndUser", "Assignment"),
                },
            ]
            policies.append(
                self._arm(
                    scope,
                    "roleManagementPolicies",
                    policy,
                    {
                        "scope": scope,
                        "displayName": "Default",
                        "description": f"PIM settings for {name}",
                        "isOrganizationDefault": False,
                        "lastModifiedDateTime": iso(as_of - rng.randint(5, 300) * DAY),
                        "lastModifiedBy": {"displayName": ctx.display_name(approver)},
                        "rules": rules,
                        "effectiveRules": rules,
                        "policyProperties": {"scope": {"id": scope, "displayName": display, "type": "subscription"}},
                    },
                )
            )
            policy_assignments.append(
                self._arm(
                    scope,
                    "roleManagementPolicyAssignments",
                    f"{policy}_{role_guid}",
                    {
                        "scope": scope,
                        "roleDefinitionId": self._role_id(scope, name),
                        "policyId": policies[-1]["id"],
                    },
                )
            )

        self.files |= {
            f"{base}/roleDefinitions.json": definitions,
            f"{base}/roleEligibilityScheduleInstances.json": eligibilities,
            f"{base}/roleAssignmentScheduleInstances.json": active,
            f"{base}/roleAssignments.json": assignments,
            f"{base}/roleManagementPolicies.json": policies,
            f"{base}/roleManagementPolicyAssignments.json": policy_assignments,
        }

    def _management_group(self) -> None:
        rng, ctx = self.rng, self.ctx
        scope = f"/providers/Microsoft.Management/managementGroups/{self.management_group}"
        admins = ctx.security_admins[:2]
        self.files[f"arm{scope}/{AUTHORIZATION}/roleAssignments.json"] = [
            self._arm(
                scope,
                "roleAssignments",
                guid(rng),
                {
                    "roleDefinitionId": f"/{AUTHORIZATION}/roleDefinitions/{ROLES['Owner'][0]}",
                    "principalId": admin,
                    "principalType": "User",
                    "scope": scope,
                    "condition": None,
                    "conditionVersion": None,
                    "createdOn": iso(ctx.as_of - 400 * DAY),
                    "updatedOn": iso(ctx.as_of - 400 * DAY),
                    "createdBy": None,
                    "updatedBy": None,
                    "description": "Tenant root owner",
                    "delegatedManagedIdentityResourceId": None,
                },
            )
            for admin in admins
        ]


def _target(caller: str, level: str) -> Json:
    return {
        "caller": caller,
        "operations": ["All"],
        "level": level,
        "targetObjects": None,
        "inheritableSettings": None,
        "enforcedSettings": None,
    }
