"""Intune's and Exchange Online's own RBAC (Graph beta `roleManagement/deviceManagement` and
`roleManagement/exchange`, docs/tenant-format.md), the role systems beside Entra roles that the Discovery phase
inventories.

Intune: a few built-in roles under their real names (Microsoft documents no fixed ids for them, so each tenant's
ids are derived from it), assigned as Intune assigns them, as `unifiedRoleAssignmentMultiple`s whose principals are
security groups (Intune's role assignments name member security groups, never users). Each role goes to a plain
security group of its own (not role-assignable, so only this surface's group expansion reaches its members), whose
`transitiveMembers` are users: Help Desk Operator to an admin and ordinary users, Intune Role Administrator to a
Global or Privileged Role Administrator, Policy and Profile manager to an admin and an ordinary user over the whole
tenant and one group's scope, Read Only Operator to ordinary users.

Exchange: management roles under their real names, each a `unifiedRoleAssignment` to one principal: Organization
Configuration to an Entra admin, Mail Recipients to a user over an administrative unit, View-Only Configuration to
an ordinary user, and an RBAC for Applications role to an app, whose principalId Graph writes as a path
(`/ServicePrincipals/{id}`, Microsoft's documented example).

A tenant too small for a plan item (too few admins, ordinary users, plain security groups or apps) skips that item.
Every assignment is also kept as an `M365Grant` per principal and scope, and every group's members in
`memberships`: the model the ground truth reads (never the JSON).
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
        # Everyone inside each group an assignment names, transitively (the ids a group's transitiveMembers lists).
        self.memberships: dict[str, list[str]] = {}
        intune_assignments = self._intune_assignments()
        exchange_assignments = self._exchange_assignments()
        self.files: dict[str, list[Json]] = {
            f"{INTUNE_FOLDER}/roleDefinitions.json": [self._intune_definition(name) for name in INTUNE_ROLES],
            f"{EXCHANGE_FOLDER}/roleDefinitions.json": [self._exchange_definition(name) for name in EXCHANGE_ROLES],
            f"{INTUNE_FOLDER}/roleAssignments.json": intune_assignments,
            f"{EXCHANGE_FOLDER}/roleAssignments.json": exchange_assignments,
        }
        for group_id, members in self.memberships.items():
            self.files[f"v1.0/groups/{group_id}/transitiveMembers.json"] = [
                ctx.directory_object(member) for member in members
            ]

    def role_id(self, system: str, name: str) -> str:
        return derived_guid(self.tenant_id, system, "role", name)

    # -- who holds what --------------------------------------------------------------------------------------

    @cached_property
    def intune_groups(self) -> list[Group]:
        """The plain security groups Intune roles are assigned to, one per assignment: those Azure RBAC does not use
        (arm.py takes the first two)."""
        plain = [g for g in self.ctx.model.groups if g.security_enabled and not g.is_assignable_to_role]
        return plain[2:]

    @cached_property
    def admins(self) -> list[str]:
        """Entra Global or Privileged Role Administrators, who also hold Intune and Exchange roles (at most three)."""
        return self.ctx.security_admins[:3]

    @cached_property
    def ordinary(self) -> list[str]:
        """Enabled members who hold no Entra role in their own name. Some still hold one through a role-assignable
        group they are a member of: whether a principal holds a privileged Entra role is the ground truth's effective
        privilege to say, never this list."""
        holders = set(self.ctx.role_holders) | set(self.ctx.security_admins)
        return [
            u.id
            for u in self.ctx.model.users
            if u.account_enabled and u.user_type == "Member" and not u.is_break_glass and u.id not in holders
        ]

    @cached_property
    def helpdesk_members(self) -> list[str]:
        """The help desk group's members: an admin and three ordinary users (fewer in a tenant with fewer)."""
        rng = self.ctx.rng("m365-roles-helpdesk")
        pool = self.ordinary[:40]
        return [*self.admins[-1:], *rng.sample(pool, min(3, len(pool)))]

    @cached_property
    def app(self) -> str | None:
        """The application granted an Exchange RBAC for Applications role, if the tenant has one."""
        principals = self.ctx.model.service_principals
        return principals[0].id if principals else None

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
        """One assignment per role, to a group of its own holding the planned people; an item with nobody to hold it,
        or no group left to name, is skipped."""
        groups = self.intune_groups
        # Policy and Profile manager also applies over the help desk group's members (a scope group).
        scoped = [groups[0].id] if groups else []
        plan = (
            ("Help Desk Operator", self.helpdesk_members, ["/"]),
            ("Intune Role Administrator", self.admins[:1], ["/"]),
            ("Policy and Profile manager", [*self.admins[1:2], *self.ordinary[:1]], ["/", *scoped]),
            ("Read Only Operator", self.ordinary[1:3], ["/"]),
        )
        rows = []
        for (name, members, scopes), group in zip(plan, groups, strict=False):
            if not members:
                continue
            self.memberships[group.id] = members
            assignment_id = derived_guid(self.tenant_id, INTUNE, "assignment", name)
            rows.append(
                {
                    "id": assignment_id,
                    "displayName": f"{name} assignment",
                    "description": "",
                    "roleDefinitionId": self.role_id(INTUNE, name),
                    "principalIds": [group.id],
                    "directoryScopeIds": scopes,
                    "appScopeIds": [],
                }
            )
            self.grants += [
                M365Grant(INTUNE, assignment_id, self.role_id(INTUNE, name), group.id, scope) for scope in scopes
            ]
        return rows

    def _exchange_assignments(self) -> list[Json]:
        """One assignment per role; an item whose principal the tenant lacks is skipped."""
        units = self.ctx.model.administrative_units
        unit_scope = f"/AdministrativeUnits/{units[0].id}" if units else "/"
        admins, ordinary = self.admins, self.ordinary
        plan = (
            ("Organization Configuration", admins[0] if admins else None, None, "/"),
            ("Mail Recipients", admins[2] if len(admins) > 2 else None, None, unit_scope),
            ("View-Only Configuration", ordinary[3] if len(ordinary) > 3 else None, None, "/"),
            ("Application Mail.Read", self.app, f"/ServicePrincipals/{self.app}", "/"),
        )
        rows = []
        for name, principal, written, scope in plan:
            if principal is None:
                continue
            assignment_id = derived_guid(self.tenant_id, EXCHANGE, "assignment", name)
            rows.append(
                {
                    "id": assignment_id,
                    "principalId": written or principal,
                    "roleDefinitionId": self.role_id(EXCHANGE, name),
                    "directoryScopeId": scope,
                    "appScopeId": None,
                }
            )
            self.grants.append(M365Grant(EXCHANGE, assignment_id, self.role_id(EXCHANGE, name), principal, scope))
        return rows
