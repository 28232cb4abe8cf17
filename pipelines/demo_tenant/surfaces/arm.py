"""Azure RBAC and Azure-resource PIM (ARM `Microsoft.Authorization`, graph-pim.md §5) for one or two
subscriptions, as files under `arm/` at their ARM URL path (docs/tenant-format.md).

Admins are eligible for Owner, Contributor and User Access Administrator; a couple are activated now; some
apps and groups hold standing roles, and a few standing assignments were made outside PIM (a roleAssignment
with no schedule behind it). Below each subscription, a resource group and a key vault in it hold access too;
above it, the management group's Owners are inherited. A subscription's listings without `$filter` hold all of
these, as ARM lists access at, above and below a scope. A role-assignable group is eligible for Owner on the
resource group (expanded through its members, plain and PIM for Groups), and a plain security group with a
nested group holds Contributor: Azure RBAC nests where Entra roles do not.

Every grant is also kept as an `AzureGrant`, the model the ground truth reads (never the JSON); each Azure role's
PIM settings are a `RolePolicy`, judged by programme.failed_rules like a directory role's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from random import Random

from pipelines.demo_tenant import wire
from pipelines.demo_tenant.clock import DAY, HOUR, MINUTE, Instant, iso, iso_or_none
from pipelines.demo_tenant.ids import guid
from pipelines.demo_tenant.model import Group, PrincipalType, RolePolicy
from pipelines.demo_tenant.surfaces.context import Context, Json, past_activation_days

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
# The generator's own tier of each Azure role (0 control plane: it can grant access; 1 privileged; 2 the rest),
# independent of the warehouse's seed azure_role_classification, which the end-to-end tests compare it with.
TIERS = {
    "Owner": 0,
    "User Access Administrator": 0,
    "Role Based Access Control Administrator": 0,
    "Contributor": 1,
    "Reader": 2,
}
RESOURCE_GROUP = "rg-platform"
STANDING = ("active_permanent", "active_time_bound", "outside_pim")
SUBSCRIPTION_NAMES = ("Production", "Development")
API_VERSIONS = {"schedules": "2020-10-01", "rbac": "2022-04-01"}


def _principal_type(kind: PrincipalType) -> str:
    return {PrincipalType.USER: "User", PrincipalType.GROUP: "Group"}.get(kind, "ServicePrincipal")


@dataclass(frozen=True)
class AzureGrant:
    """One Azure access row as docs/metrics.md defines it: a principal (a group is not expanded here), a role, an
    ARM scope and a state (eligible, active_permanent, active_time_bound, activated, outside_pim)."""

    principal_id: str
    role: str
    scope: str
    scope_kind: str  # management_group, subscription, resource_group, resource
    state: str
    end: Instant | None = None


@dataclass(frozen=True)
class AzureActivation:
    """A PIM for Azure resources activation, running at as_of or ended before it."""

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
        # Drawn from generators of their own, so that the scopes and groups below move nothing drawn before them.
        self.scope_rng = ctx.rng("arm-scopes")
        count = 1 if ctx.model.tenant.size == "S" else 2
        self.subscriptions = [(guid(self.rng), SUBSCRIPTION_NAMES[i]) for i in range(count)]
        self.management_group = f"mg-{ctx.model.tenant.initial_domain.split('.')[0]}"
        self.files: dict[str, list[Json]] = {}
        # The activations running at as_of and those that ended within the year, for PIM's audit rows of them
        # (wire.AuditLog.azure_activation_events).
        self.activations: list[AzureActivation] = []
        # Every access row, and each (subscription scope, role) PIM policy: what the ground truth reads.
        self.grants: list[AzureGrant] = []
        self.policies: list[tuple[str, str, RolePolicy]] = []
        management_group_rows = self._management_group()
        for sub_id, name in self.subscriptions:
            self._subscription(sub_id, name, management_group_rows)
        self.files[f"v1.0/groups/{self.operators[0].id}/transitiveMembers.json"] = [
            self.ctx.directory_object(member) for member in self.operator_members
        ]

    @cached_property
    def operators(self) -> tuple[Group, Group]:
        """A security group that is not role-assignable and holds Contributor, and the group nested in it."""
        plain = [g for g in self.ctx.model.groups if g.security_enabled and not g.is_assignable_to_role]
        return plain[0], plain[1]

    @cached_property
    def operator_members(self) -> list[str]:
        """`transitiveMembers` of the operators group: two people, the nested group, and the nested group's two."""
        direct, nested = self.nested_members
        return [*direct, self.operators[1].id, *nested]

    @cached_property
    def nested_members(self) -> tuple[list[str], list[str]]:
        rng = self.ctx.rng("arm-operators")
        people = self.ctx.role_holders or [u.id for u in self.ctx.model.users]
        chosen = rng.sample(people, min(len(people), 4))
        return chosen[:2], chosen[2:]

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

    def _subscription(self, sub_id: str, display: str, inherited: list[Json]) -> None:
        rng, ctx, as_of = self.rng, self.ctx, self.ctx.as_of
        sub_scope = f"/subscriptions/{sub_id}"
        base = f"arm/subscriptions/{sub_id}/{AUTHORIZATION}"
        people = ctx.role_holders or [u.id for u in ctx.model.users]
        apps = [sp for sp in ctx.model.service_principals[1:]]
        role_groups = [g for g in ctx.model.groups if g.is_assignable_to_role]
        resource_group = f"{sub_scope}/resourceGroups/{RESOURCE_GROUP}"
        vault = f"{resource_group}/providers/Microsoft.KeyVault/vaults/kv-{sub_id[:8]}"
        scopes = {
            sub_scope: (display, "subscription"),
            resource_group: (RESOURCE_GROUP, "resourcegroup"),
            vault: (vault.rsplit("/", 1)[1], "resource"),
        }
        kinds = {"subscription": "subscription", "resourcegroup": "resource_group", "resource": "resource"}

        definitions = [
            self._arm(
                sub_scope,
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
        assignments: list[Json] = list(inherited)

        def expanded(role: str, principal: str, scope: str = sub_scope) -> Json:
            name, kind = scopes[scope]
            return self._expanded(scope, name, kind, role, principal)

        def instance(role: str, principal: str, scope: str) -> Json:
            """What every PIM schedule instance of a principal's role at a scope says about them."""
            return {
                "scope": scope,
                "roleDefinitionId": self._role_id(sub_scope, role),
                "principalId": principal,
                "principalType": _principal_type(ctx.principal_type(principal)),
                "status": "Provisioned",
                "memberType": "Direct",
            }

        def grant(principal: str, role: str, scope: str, state: str, end: Instant | None = None) -> None:
            self.grants.append(AzureGrant(principal, role, scope, kinds[scopes[scope][1]], state, end))

        def assignment(
            role: str, principal: str, created: Instant, description: str, scope: str = sub_scope, r: Random = rng
        ) -> str:
            name = guid(r)
            assignments.append(
                self._arm(
                    scope,
                    "roleAssignments",
                    name,
                    {
                        "roleDefinitionId": self._role_id(sub_scope, role),
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

        def eligibility(
            role: str, principal: str, start: Instant, end: Instant | None, scope: str = sub_scope, r: Random = rng
        ) -> None:
            schedule = guid(r)
            eligibilities.append(
                self._arm(
                    scope,
                    "roleEligibilityScheduleInstances",
                    guid(r),
                    {
                        **instance(role, principal, scope),
                        "roleEligibilityScheduleId": f"{scope}/{AUTHORIZATION}/roleEligibilitySchedules/{schedule}",
                        "startDateTime": iso(start),
                        "endDateTime": iso_or_none(end),
                        "createdOn": iso(start),
                        "condition": None,
                        "conditionVersion": None,
                        "expandedProperties": expanded(role, principal, scope),
                    },
                )
            )
            grant(principal, role, scope, "eligible", end)

        def standing(
            role: str,
            principal: str,
            created: Instant,
            end: Instant | None,
            scope: str = sub_scope,
            r: Random = rng,
        ) -> None:
            origin = assignment(role, principal, created, "Standing access managed in PIM", scope, r)
            active.append(
                self._arm(
                    scope,
                    "roleAssignmentScheduleInstances",
                    guid(r),
                    {
                        **instance(role, principal, scope),
                        "assignmentType": "Assigned",
                        "startDateTime": iso(created),
                        "endDateTime": iso_or_none(end),
                        "roleAssignmentScheduleId": f"{scope}/{AUTHORIZATION}/roleAssignmentSchedules/{guid(r)}",
                        "originRoleAssignmentId": origin,
                        "linkedRoleEligibilityScheduleId": None,
                        "linkedRoleEligibilityScheduleInstanceId": None,
                        "createdOn": iso(created),
                        "condition": None,
                        "conditionVersion": None,
                        "expandedProperties": expanded(role, principal, scope),
                    },
                )
            )
            grant(principal, role, scope, "active_permanent" if end is None else "active_time_bound", end)

        schedules = f"{sub_scope}/{AUTHORIZATION}/roleAssignmentSchedules"
        eligibility_schedules = f"{sub_scope}/{AUTHORIZATION}/roleEligibilitySchedules"
        chosen = rng.sample(people, min(len(people), rng.randint(4, 10)))
        eligible_people: list[tuple[str, str, Instant]] = []
        for index, principal in enumerate(chosen):
            role = ("Owner", "Contributor", "User Access Administrator", "Contributor")[index % 4]
            start = as_of - rng.randint(20, 300) * DAY
            end = start + 365 * DAY if rng.random() < 0.6 else None
            eligibility(role, principal, start, end)
            eligible_people.append((principal, role, start))
            schedule = eligibilities[-1]["properties"]["roleEligibilityScheduleId"].rsplit("/", 1)[1]
            if index < 2:  # activated right now
                began = as_of - rng.randint(10 * MINUTE, 3 * HOUR)
                assignment_schedule = guid(rng)
                origin = assignment(role, principal, began, "")
                self.activations.append(
                    AzureActivation(origin, sub_scope, display, self._role_id(sub_scope, role), role, principal, began)
                )
                active.append(
                    self._arm(
                        sub_scope,
                        "roleAssignmentScheduleInstances",
                        guid(rng),
                        {
                            **instance(role, principal, sub_scope),
                            "assignmentType": "Activated",
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
                grant(principal, role, sub_scope, "activated", began + 8 * HOUR)

        self._past_activations(sub_scope, display, eligible_people)

        held = [(sp.id, "Contributor") for sp in apps[:2]] + [(g.id, "Reader") for g in role_groups[:1]]
        for principal, role in held:
            standing(role, principal, as_of - rng.randint(30, 800) * DAY, None)
        # Outside PIM: a standing Owner for an app and one for a person, with no schedule behind them.
        for principal in [apps[-1].id, *rng.sample(people, min(1, len(people)))]:
            assignment("Owner", principal, as_of - rng.randint(100, 900) * DAY, "")
            grant(principal, "Owner", sub_scope, "outside_pim")

        # Below the subscription, and through groups (a generator of their own: nothing above moves).
        r = self.scope_rng
        few = r.sample(people, min(len(people), 3))
        if role_groups:
            eligibility("Owner", role_groups[0].id, as_of - r.randint(20, 200) * DAY, None, resource_group, r)
        start = as_of - r.randint(5, 60) * DAY
        # Runs out within the design's expiring-access horizon (docs/metrics.md, "Expiring access").
        standing("Contributor", few[0], start, as_of + r.randint(2, 25) * DAY, resource_group, r)
        eligibility("User Access Administrator", few[1 % len(few)], start, start + 180 * DAY, vault, r)
        assignment("Role Based Access Control Administrator", few[2 % len(few)], start, "", vault, r)
        grant(few[2 % len(few)], "Role Based Access Control Administrator", vault, "outside_pim")
        standing("Contributor", self.operators[0].id, as_of - r.randint(30, 400) * DAY, None, sub_scope, r)

        scope_object = {"id": sub_scope, "displayName": display, "type": "subscription"}
        policy_objects, policy_assignments = [], []
        approver = ctx.security_admins[0]
        model_policy = ctx.model.policies[0]
        for name, (role_guid, privileged, _) in ROLES.items():
            policy_id = guid(rng)
            policy = replace(
                model_policy,
                id=policy_id,
                role_id=role_guid,
                approval_required=name == "Owner",
                approver_ids=(approver,),
                listed_only_approvers=(),
                mfa_on_activation=privileged,
                authentication_context=None,
                justification_on_activation=True,
                ticketing_on_activation=False,
                max_activation=8 * HOUR,
                eligibility_expiration_required=privileged,
                max_eligibility=365 * DAY,
                activation_alert_recipients=(),
                last_modified_at=as_of - rng.randint(5, 300) * DAY,
                last_modified_by=approver,
            )
            self.policies.append((sub_scope, name, policy))
            rules = arm_policy_rules(policy, ctx)
            policy_objects.append(
                self._arm(
                    sub_scope,
                    "roleManagementPolicies",
                    policy_id,
                    {
                        "scope": sub_scope,
                        "displayName": "Default",
                        "description": f"PIM settings for {name}",
                        "isOrganizationDefault": False,
                        "lastModifiedDateTime": iso(policy.last_modified_at),
                        "lastModifiedBy": {"displayName": ctx.display_name(approver)},
                        "rules": rules,
                        "effectiveRules": rules,
                        "policyProperties": {"scope": scope_object},
                    },
                )
            )
            policy_assignments.append(
                self._arm(
                    sub_scope,
                    "roleManagementPolicyAssignments",
                    f"{policy_id}_{role_guid}",
                    {
                        "scope": sub_scope,
                        "roleDefinitionId": self._role_id(sub_scope, name),
                        "policyId": policy_objects[-1]["id"],
                        "policyAssignmentProperties": {
                            "scope": scope_object,
                            "roleDefinition": {
                                "id": self._role_id(sub_scope, name),
                                "displayName": name,
                                "type": "BuiltInRole",
                            },
                            "policy": {
                                "id": policy_objects[-1]["id"],
                                "lastModifiedDateTime": iso(policy.last_modified_at),
                            },
                        },
                    },
                )
            )

        self.files |= {
            f"{base}/roleDefinitions.json": definitions,
            f"{base}/roleEligibilityScheduleInstances.json": eligibilities,
            f"{base}/roleAssignmentScheduleInstances.json": active,
            f"{base}/roleAssignments.json": assignments,
            f"{base}/roleManagementPolicies.json": policy_objects,
            f"{base}/roleManagementPolicyAssignments.json": policy_assignments,
        }

    def _past_activations(self, scope: str, display: str, eligible: list[tuple[str, str, Instant]]) -> None:
        """Activations of the subscription's eligible people (principal, role, eligible since) that ended before
        as_of: none to four each, on days of their own within the year the audit log keeps, each for the policy's
        eight hours at most. Only PIM's audit rows keep them (ARM lists the instances running now); drawn from a
        generator of their own, so nothing else moves."""
        rng, as_of = self.ctx.rng(f"arm-activation-history/{scope}"), self.ctx.as_of
        for principal, role, start in eligible:
            for day in past_activation_days(rng, start, as_of, most=4):
                began = day * DAY + rng.randint(6 * HOUR, 20 * HOUR)
                origin = f"{scope}/{AUTHORIZATION}/roleAssignments/{guid(rng)}"
                self.activations.append(
                    AzureActivation(origin, scope, display, self._role_id(scope, role), role, principal, began)
                )

    def _management_group(self) -> list[Json]:
        """The management group's Owners: outside PIM, listed at the group and, inherited, at every subscription."""
        rng, ctx = self.rng, self.ctx
        scope = f"/providers/Microsoft.Management/managementGroups/{self.management_group}"
        admins = ctx.security_admins[:2]
        rows = [
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
        self.files[f"arm{scope}/{AUTHORIZATION}/roleAssignments.json"] = rows
        self.grants.extend(AzureGrant(admin, "Owner", scope, "management_group", "outside_pim") for admin in admins)
        return rows


def arm_policy_rules(policy: RolePolicy, ctx: Context) -> list[Json]:
    """Graph's 17 rules of a policy (wire.policy_rules) in ARM's shape: `ruleType` instead of `@odata.type`, and
    approvers as `{id, description, isBackup, userType}` (graph-pim.md section 5)."""
    rules = []
    for rule in wire.policy_rules(policy, ctx.users):
        arm = {"id": rule["id"], "ruleType": rule["@odata.type"].rsplit(".", 1)[1].removeprefix("unified")}
        arm |= {key: value for key, value in rule.items() if key not in ("@odata.type", "id")}
        if rule["id"] == "Approval_EndUser_Assignment":
            stages = [
                stage
                | {
                    "primaryApprovers": [
                        {"id": a["userId"], "description": a["description"], "isBackup": False, "userType": "User"}
                        for a in stage["primaryApprovers"]
                    ]
                }
                for stage in rule["setting"]["approvalStages"]
            ]
            arm["setting"] = rule["setting"] | {"approvalStages": stages}
        rules.append(arm)
    return rules
