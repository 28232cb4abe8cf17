"""App registrations, owners, Microsoft Graph application permissions and delegated grants (graph-pim.md §8).

The tenant's own applications (service principals of type Application owned by the tenant) get an app
registration; each app holds a few Microsoft Graph app roles by their real GUIDs, a few of them tier 0.
"""

from __future__ import annotations

import base64
import uuid
from typing import NamedTuple

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, iso
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import Credential, ServicePrincipal
from pipelines.demo_tenant.surfaces.context import Context, Json

# Microsoft Graph application permissions (appRole id, value), graph-pim.md §8 and §12.
GRAPH_APP_ROLES: dict[str, str] = {
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    "Sites.FullControl.All": "a82116e5-55eb-4c41-a434-62fe8a61c773",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
}
# Planted holdings by app name: the risky ones every run must show.
PLANTED: dict[str, tuple[str, ...]] = {
    "Legacy Provisioner": ("RoleManagement.ReadWrite.Directory", "User.ReadWrite.All"),
    "Terraform Deployer": ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
    "HR Provisioning Connector": ("User.ReadWrite.All", "Group.Read.All"),
    "Security Posture Scanner": ("Directory.Read.All", "AuditLog.Read.All", "RoleManagement.Read.Directory"),
    "ServiceNow Graph Connector": ("User.Read.All", "Group.Read.All"),
    "mi-automation-prod": ("Directory.ReadWrite.All",),
}
_COMMON = (
    "User.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Mail.Send",
    "Sites.FullControl.All",
    "Application.Read.All",
    "AuditLog.Read.All",
    "Group.ReadWrite.All",
)
# A user's own consent to a tool that manages every app registration (a delegated path to tier 0).
PLANTED_USER_CONSENT = ("Terraform Deployer", "Application.ReadWrite.All User.Read")
DELEGATED_SCOPES = (
    "openid profile offline_access User.Read",
    "User.Read Mail.Read",
    "User.Read Files.Read.All",
    "Directory.AccessAsUser.All User.Read",
)


class Grant(NamedTuple):
    """One delegated permission grant (oauth2PermissionGrant)."""

    id: str
    client_id: str  # the client service principal
    consent_type: str  # AllPrincipals (admin consent) | Principal (one user's)
    principal_id: str | None
    scope: str  # space-separated delegated scopes


def graph_app_roles() -> list[Json]:
    return [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to {value} without a signed-in user.",
            "displayName": value,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }
        for value, role_id in GRAPH_APP_ROLES.items()
    ]


def with_app_roles(body: Json, sp: ServicePrincipal) -> Json:
    """The service principal row, with Microsoft Graph's app roles on Microsoft Graph's own."""
    if sp.app_id == catalog.MICROSOFT_GRAPH_APP_ID:
        body["appRoles"] = graph_app_roles()
    return body


def _object_key(*parts: str) -> str:
    """An id in the base64url style of appRoleAssignment and oauth2PermissionGrant ids."""
    raw = uuid.UUID(derived_guid(*parts)).bytes + uuid.UUID(derived_guid(*parts, "2")).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _credential(c: Credential, certificate: bool) -> Json:
    body: Json = {
        "keyId": c.key_id,
        "displayName": c.display_name,
        "startDateTime": iso(c.start),
        "endDateTime": iso(c.end),
        "customKeyIdentifier": None,
    }
    if certificate:
        body |= {"type": "AsymmetricX509Cert", "usage": "Verify"}
    return body


class Apps:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rng = ctx.rng("apps")
        sps = ctx.model.service_principals
        self.graph = next(sp for sp in sps if sp.app_id == catalog.MICROSOFT_GRAPH_APP_ID)
        self.tenant_sps = [sp for sp in sps if sp.app_id != catalog.MICROSOFT_GRAPH_APP_ID]
        self.own_apps = [sp for sp in self.tenant_sps if sp.service_principal_type == "Application"]
        self.application_id = {
            sp.id: derived_guid(ctx.model.tenant.id, "application", sp.app_id) for sp in self.own_apps
        }
        self.held = self._held()
        self.owner_ids = self._owner_ids()
        self.grants = self._grants()

    def _held(self) -> dict[str, list[str]]:
        rng = self.rng
        held: dict[str, list[str]] = {}
        for sp in self.tenant_sps:
            planted = PLANTED.get(sp.display_name)
            if planted is not None:
                held[sp.id] = list(planted)
            elif rng.random() < 0.7:
                held[sp.id] = rng.sample(_COMMON, rng.randint(1, 3))
        return held

    def applications(self) -> list[Json]:
        result = []
        for sp in self.own_apps:
            access = [{"id": GRAPH_APP_ROLES[v], "type": "Role"} for v in self.held.get(sp.id, [])]
            result.append(
                {
                    "id": self.application_id[sp.id],
                    "appId": sp.app_id,
                    "displayName": sp.display_name,
                    "createdDateTime": iso(sp.created_at),
                    "signInAudience": "AzureADMyOrg",
                    "publisherDomain": self.ctx.model.tenant.default_domain,
                    "passwordCredentials": [_credential(c, False) for c in sp.passwords],
                    "keyCredentials": [_credential(c, True) for c in sp.certificates],
                    "requiredResourceAccess": (
                        [{"resourceAppId": catalog.MICROSOFT_GRAPH_APP_ID, "resourceAccess": access}] if access else []
                    ),
                }
            )
        return result

    def _owner_ids(self) -> dict[str, list[str]]:
        """Service principal id -> its owners' ids (the same on its app registration): users, now and then an app."""
        rng = self.ctx.rng("app-owners")
        people = [u.id for u in self.ctx.model.users if u.user_type == "Member" and not u.is_break_glass]
        result: dict[str, list[str]] = {}
        for sp in self.tenant_sps:
            if rng.random() < 0.2:
                continue  # ownerless: a finding of its own
            owners = rng.sample(people, min(len(people), rng.choice((1, 1, 2, 3))))
            if rng.random() < 0.1 and len(self.tenant_sps) > 1:
                owners.append(rng.choice([other.id for other in self.tenant_sps if other.id != sp.id]))
            result[sp.id] = list(dict.fromkeys(owners))
        return result

    def owners(self) -> tuple[dict[str, list[Json]], dict[str, list[Json]]]:
        """(application id -> owners, service principal id -> owners), as directory objects."""
        apps: dict[str, list[Json]] = {}
        sps: dict[str, list[Json]] = {}
        for sp_id, owner_ids in self.owner_ids.items():
            objects = [self.ctx.directory_object(o) for o in owner_ids]
            sps[sp_id] = objects
            if sp_id in self.application_id:
                apps[self.application_id[sp_id]] = objects
        return apps, sps

    def app_role_assignments(self) -> dict[str, list[Json]]:
        """Service principal id -> the Microsoft Graph app roles it holds."""
        rng = self.ctx.rng("app-role-assignments")
        result = {}
        for sp in self.tenant_sps:
            values = self.held.get(sp.id)
            if not values:
                continue
            granted = max(sp.created_at, self.ctx.as_of - rng.randint(1, 900) * DAY)
            result[sp.id] = [
                {
                    "id": _object_key(sp.id, value),
                    "createdDateTime": iso(granted + index * 1000),
                    "deletedDateTime": None,
                    "appRoleId": GRAPH_APP_ROLES[value],
                    "principalDisplayName": sp.display_name,
                    "principalId": sp.id,
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph",
                    "resourceId": self.graph.id,
                }
                for index, value in enumerate(values)
            ]
        return result

    def _grants(self) -> list[Grant]:
        rng = self.ctx.rng("oauth2-grants")
        users = [u.id for u in self.ctx.model.users if u.account_enabled]
        grants = []
        for index, sp in enumerate(self.own_apps):
            if index > 0 and rng.random() < 0.4:
                continue
            # The first app carries the risky admin-consented grant; the others a plain sign-in one.
            scope = DELEGATED_SCOPES[3] if index == 0 else rng.choice(DELEGATED_SCOPES[:3])
            grants.append(Grant(_object_key(sp.id, "AllPrincipals"), sp.id, "AllPrincipals", None, scope))
            for user in rng.sample(users, min(len(users), rng.randint(0, 2))):
                grants.append(
                    Grant(_object_key(sp.id, user), sp.id, "Principal", user, rng.choice(DELEGATED_SCOPES[:3]))
                )
        # One person consented for themselves to a deployment tool managing every app registration.
        deployer = next((sp for sp in self.own_apps if sp.display_name == PLANTED_USER_CONSENT[0]), None)
        if deployer is not None and users:
            grants.append(
                Grant(_object_key(deployer.id, users[0]), deployer.id, "Principal", users[0], PLANTED_USER_CONSENT[1])
            )
        return grants

    def oauth2_permission_grants(self) -> list[Json]:
        return [
            {
                "id": grant.id,
                "clientId": grant.client_id,
                "consentType": grant.consent_type,
                "principalId": grant.principal_id,
                "resourceId": self.graph.id,
                "scope": grant.scope,
            }
            for grant in self.grants
        ]
