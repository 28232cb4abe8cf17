"""Intune's and Exchange Online's own RBAC (Graph beta `roleManagement/deviceManagement` and
`roleManagement/exchange`, docs/tenant-format.md), the role systems beside Entra roles that the Discovery phase
inventories.

Intune: a few built-in roles under their real names (Microsoft documents no fixed ids for them, so each tenant's
ids are derived from it), assigned as Intune assigns them, as `unifiedRoleAssignmentMultiple`s: Help Desk Operator
to a plain security group (not role-assignable, so only this surface's group expansion reaches its members),
Intune Role Administrator to a Global or Privileged Role Administrator, Policy and Profile manager to an admin and an
ordinary user over one group's scope, Read Only Operator to ordinary users.

Exchange: management roles under their real names, each a `unifiedRoleAssignment` to one principal: Organization
Configuration to an Entra admin, Mail Recipients to a user over an administrative unit, and an RBAC for Applications
role to an app, whose principalId Graph writes as a path (`/ServicePrincipals/{id}`, Microsoft's documented example).

Every assignment is also kept as an `M365Grant` per principal and scope, the model the ground truth reads (never the
JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import Group
from pipelines.demo_tenant.surfaces.context import Context, Json

INTUNE = "intune"
EXCHANGE = "exchange"
INTUNE_FOLDER = "beta/roleManagement/deviceManagement"
EXCHANGE_FOLDER = "beta/roleManagement/exchange"
# name -> (description, allowed resource actions)
INTUNE_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Intune Role Administrator": (
        "Manages custom Intune roles and adds assignments for built-in Intune roles.",
        ("Microsoft.Intune_Roles_Create", "Microsoft.Intune_Roles_Update", "Microsoft.Intune_Roles_Assign"),
    ),
    "Policy and Profile manager": (
        "Manages compliance policy, configuration profiles, Apple enrollment, corporate device identifiers.",
        ("Microsoft.Intune_DeviceConfigurations_Update", "Microsoft.Intune_DeviceCompliancePolices_Update"),
    ),
    "Help Desk Operator": (
        "Performs remote tasks on users and devices, and can assign applications or policies to users or devices.",
        ("Microsoft.Intune_RemoteTasks_Wipe", "Microsoft.Intune_RemoteTasks_ResetPasscode"),
    ),
    "Read Only Operator": (
        "Views user, device, enrollment, configuration, and application information.",
        ("Microsoft.Intune_ManagedDevices_Read", "Microsoft.Intune_DeviceConfigurations_Read"),
    ),
}
EXCHANGE_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Organization Configuration": (
        "This role enables administrators to manage organization-wide settings.",
        ("(Microsoft.Exchange.Management.PowerShell.E2010) Set-OrganizationConfig",),
    ),
    "Mail Recipients": (
        "This role enables administrators to manage existing mailboxes, mail users, and mail contacts.",
        ("(Microsoft.Exchange.Management.PowerShell.E2010) Set-Mailbox",),
    ),
    "Application Mail.Read": (
        "Allows the app to read email in all mailboxes without a signed-in user.",
        ("Mail.Read",),
    ),
    "View-Only Configuration": (
        "This role enables administrators to view all of the non-recipient Exchange configuration settings.",
        ("(Microsoft.Exchange.Management.PowerShell.E2010) Get-OrganizationConfig",),
    ),
}


@dataclass(frozen=True)
class M365Grant:
    """One access row of docs/metrics.md's "Other role systems": a principal as named by the assignment (a group is
    not expanded here), a role of one system, and one scope of the assignment."""

    system: str
    assignment_id: str
    role: str
    principal_id: str
    scope: str


class M365Roles:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.tenant_id = ctx.model.tenant.id
        self.grants: list[M365Grant] = []
        self.files: dict[str, list[Json]] = {
            f"{INTUNE_FOLDER}/roleDefinitions.json": [self._intune_definition(name) for name in INTUNE_ROLES],
            f"{EXCHANGE_FOLDER}/roleDefinitions.json": [self._exchange_definition(name) for name in EXCHANGE_ROLES],
            f"{INTUNE_FOLDER}/roleAssignments.json": self._intune_assignments(),
            f"{EXCHANGE_FOLDER}/roleAssignments.json": self._exchange_assignments(),
            f"v1.0/groups/{self.helpdesk.id}/transitiveMembers.json": [
                ctx.directory_object(member) for member in self.helpdesk_members
            ],
        }

    def role_id(self, system: str, name: str) -> str:
        return derived_guid(self.tenant_id, system, "role", name)

    # -- who holds what --------------------------------------------------------------------------------------

    @cached_property
    def helpdesk(self) -> Group:
        """The plain security group Help Desk Operator is assigned to: one Azure RBAC does not use (arm.py)."""
        plain = [g for g in self.ctx.model.groups if g.security_enabled and not g.is_assignable_to_role]
        return plain[2]

    @cached_property
    def admins(self) -> list[str]:
        """Entra Global or Privileged Role Administrators, who also hold Intune and Exchange roles."""
        return self.ctx.security_admins[:3]

    @cached_property
    def ordinary(self) -> list[str]:
        """Enabled members who hold no Entra role."""
        holders = set(self.ctx.role_holders) | set(self.ctx.security_admins)
        return [
            u.id
            for u in self.ctx.model.users
            if u.account_enabled and u.user_type == "Member" and not u.is_break_glass and u.id not in holders
        ]

    @cached_property
    def helpdesk_members(self) -> list[str]:
        """`transitiveMembers` of the help desk group: an admin and three ordinary users."""
        rng = self.ctx.rng("m365-roles-helpdesk")
        return [self.admins[-1], *rng.sample(self.ordinary[:40], 3)]

    @cached_property
    def app(self) -> str:
        """The application granted an Exchange RBAC for Applications role."""
        return self.ctx.model.service_principals[0].id

    # -- files -----------------------------------------------------------------------------------------------

    def _intune_definition(self, name: str) -> Json:
        description, actions = INTUNE_ROLES[name]
        role_id = self.role_id(INTUNE, name)
        return {
            "id": role_id,
            "description": description,
            "displayName": name,
            "isBuiltIn": True,
            "isEnabled": True,
            "resourceScopes": ["/"],
            "templateId": role_id,
            "version": None,
            "rolePermissions": [{"allowedResourceActions": list(actions), "condition": None}],
        }

    def _exchange_definition(self, name: str) -> Json:
        description, actions = EXCHANGE_ROLES[name]
        return {
            "id": self.role_id(EXCHANGE, name),
            "description": description,
            "displayName": name,
            "isEnabled": True,
            "version": "0.12 (14.0.451.0)",
            "isBuiltIn": True,
            "templateId": None,
            "allowedPrincipalTypes": "user,group",
            "rolePermissions": [
                {"allowedResourceActions": list(actions), "excludedResourceActions": [], "condition": None}
            ],
        }

    def _intune_assignments(self) -> list[Json]:
        scoped_group = self.helpdesk.id
        plan = (
            ("Help Desk Operator", [self.helpdesk.id], ["/"]),
            ("Intune Role Administrator", [self.admins[0]], ["/"]),
            ("Policy and Profile manager", [self.admins[1], self.ordinary[0]], ["/", scoped_group]),
            ("Read Only Operator", self.ordinary[1:3], ["/"]),
        )
        rows = []
        for name, principals, scopes in plan:
            assignment_id = derived_guid(self.tenant_id, INTUNE, "assignment", name)
            rows.append(
                {
                    "id": assignment_id,
                    "displayName": f"{name} assignment",
                    "description": "",
                    "roleDefinitionId": self.role_id(INTUNE, name),
                    "principalIds": principals,
                    "directoryScopeIds": scopes,
                    "appScopeIds": [],
                }
            )
            self.grants += [
                M365Grant(INTUNE, assignment_id, self.role_id(INTUNE, name), principal, scope)
                for principal in principals
                for scope in scopes
            ]
        return rows

    def _exchange_assignments(self) -> list[Json]:
        units = self.ctx.model.administrative_units
        unit_scope = f"/AdministrativeUnits/{units[0].id}" if units else "/"
        plan = (
            ("Organization Configuration", self.admins[0], self.admins[0], "/"),
            ("Mail Recipients", self.admins[2], self.admins[2], unit_scope),
            ("View-Only Configuration", self.ordinary[3], self.ordinary[3], "/"),
            ("Application Mail.Read", self.app, f"/ServicePrincipals/{self.app}", "/"),
        )
        rows = []
        for name, principal, written, scope in plan:
            assignment_id = derived_guid(self.tenant_id, EXCHANGE, "assignment", name)
            rows.append(
                {
                    "id": assignment_id,
                    "principalId": written,
                    "roleDefinitionId": self.role_id(EXCHANGE, name),
                    "directoryScopeId": scope,
                    "appScopeId": None,
                }
            )
            self.grants.append(M365Grant(EXCHANGE, assignment_id, self.role_id(EXCHANGE, name), principal, scope))
        return rows
