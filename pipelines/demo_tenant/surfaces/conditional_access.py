"""Conditional Access policies (v1.0 `identity/conditionalAccess/policies`), as a tenant with a PIM programme has them.

Enforced MFA for the administrator roles, except one tier-1 role somebody holds left out of the list (the gap a
coverage check must find); a report-only phishing-resistant policy for tier 0 (report-only enforces nothing); legacy
authentication blocked; an authentication context for PIM activation; a draft "MFA for everyone" left disabled; a
second authentication context that only a report-only policy targets (a role asking for it on activation is
protected by nothing: the authentication-context control must find it). The break-glass accounts are excluded
from the enforced policies, except that the second is missing from the authentication-context policy's exclusions
(the break-glass check must find it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.demo_tenant.clock import DAY, iso
from pipelines.demo_tenant.ids import derived_guid
from pipelines.demo_tenant.model import PrincipalType, TenantModel
from pipelines.demo_tenant.surfaces.context import Json

ENABLED = "enabled"
REPORT_ONLY = "enabledForReportingButNotEnforced"
DISABLED = "disabled"
PHISHING_RESISTANT = {
    "id": "00000000-0000-0000-0000-000000000004",
    "displayName": "Phishing-resistant MFA",
    "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 "
    "security key",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
}
ACTIVATION_CONTEXT = "c1"  # the authentication context PIM role settings ask for on activation
UNENFORCED_CONTEXT = "c2"  # an authentication context only a report-only policy targets


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    state: str
    include_users: tuple[str, ...] = ()
    exclude_users: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()
    include_applications: tuple[str, ...] = ("All",)
    authentication_contexts: tuple[str, ...] = ()
    client_app_types: tuple[str, ...] = ("all",)
    controls: tuple[str, ...] = ("mfa",)
    strength: dict = field(default_factory=dict)

    @property
    def requires_mfa(self) -> bool:
        """Its grant asks for MFA or an authentication strength."""
        return "mfa" in self.controls or bool(self.strength)


def conditional_access_policies(model: TenantModel) -> list[Policy]:
    tenant = model.tenant
    glass = sorted(u.id for u in model.users if u.is_break_glass)
    tier0 = sorted(role.id for role in model.roles if role.tier == 0)
    tier1 = sorted(role.id for role in model.roles if role.tier == 1)
    # The role the administrators' MFA policy forgot: the first tier-1 role somebody holds actively now.
    held = sorted({a.role_id for a in model.assignments if a.principal_type is PrincipalType.USER} & set(tier1))
    forgotten = held[0] if held else tier1[-1]

    def key(name: str) -> str:
        return derived_guid(tenant.id, "conditional-access", name)

    return [
        Policy(
            key("admins-mfa"),
            "CA001 Require MFA for administrators",
            ENABLED,
            exclude_users=tuple(glass),
            include_roles=tuple(tier0 + [role for role in tier1 if role != forgotten]),
        ),
        Policy(
            key("tier0-phishing-resistant"),
            "CA002 Require phishing-resistant MFA for tier 0",
            REPORT_ONLY,
            exclude_users=tuple(glass),
            include_roles=tuple(tier0),
            controls=(),
            strength=PHISHING_RESISTANT,
        ),
        Policy(
            key("legacy-auth"),
            "CA003 Block legacy authentication",
            ENABLED,
            include_users=("All",),
            exclude_users=tuple(glass),
            client_app_types=("exchangeActiveSync", "other"),
            controls=("block",),
        ),
        Policy(
            key("pim-activation"),
            "CA004 PIM activation: authentication context",
            ENABLED,
            include_users=("All",),
            exclude_users=tuple(glass[:1]),
            include_applications=(),
            authentication_contexts=(ACTIVATION_CONTEXT,),
        ),
        Policy(key("all-users-mfa"), "CA005 Require MFA for all users (draft)", DISABLED, include_users=("All",)),
        Policy(
            key("pim-activation-tier0-device"),
            "CA006 PIM activation for tier 0: compliant device (report-only)",
            REPORT_ONLY,
            include_users=("All",),
            exclude_users=tuple(glass),
            include_applications=(),
            authentication_contexts=(UNENFORCED_CONTEXT,),
            controls=("compliantDevice",),
        ),
    ]


def policy_json(model: TenantModel, policy: Policy) -> Json:
    created = model.tenant.as_of - 400 * DAY
    return {
        "id": policy.id,
        "templateId": None,
        "displayName": policy.name,
        "createdDateTime": iso(created),
        "modifiedDateTime": iso(created + 90 * DAY),
        "state": policy.state,
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": list(policy.client_app_types),
            "platforms": None,
            "locations": None,
            "applications": {
                "includeApplications": list(policy.include_applications),
                "excludeApplications": [],
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": list(policy.authentication_contexts),
            },
            "users": {
                "includeUsers": list(policy.include_users),
                "excludeUsers": list(policy.exclude_users),
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": list(policy.include_roles),
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
            },
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": list(policy.controls),
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": policy.strength or None,
        },
    }
