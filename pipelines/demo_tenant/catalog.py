"""Reference data the simulation draws from: roles, offices, departments, names and text pools.

Built-in roles carry their real template ids and Microsoft's `isPrivileged` flag as listed in
/work/shared/reference/graph-pim.md section 9. Descriptions follow the Entra permissions reference (short
form); the permission lists are a representative excerpt, not the full set a real tenant returns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoleSpec:
    template_id: str
    name: str
    description: str
    is_privileged: bool
    # 0 = control plane (tier 0), 1 = other privileged, 2 = not flagged privileged. Drives how strict the
    # generated PIM policy is, the way a real programme tightens the most dangerous roles first.
    tier: int
    actions: tuple[str, ...]
    # Roles Entra allows at administrative-unit scope (graph-pim.md 2.5).
    au_scopable: bool = False
    # Typical self-activations per eligible person per year, before the person's own activity level.
    activations_per_year: float = 12.0


def _role(
    template_id: str,
    name: str,
    description: str,
    privileged: bool,
    tier: int,
    actions: tuple[str, ...],
    *,
    au: bool = False,
    rate: float = 12.0,
) -> RoleSpec:
    return RoleSpec(template_id, name, description, privileged, tier, actions, au, rate)


GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
SECURITY_ADMINISTRATOR = "194ae4cb-b126-40b2-bd5b-6091b380977d"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
CONDITIONAL_ACCESS_ADMINISTRATOR = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
INTUNE_ADMINISTRATOR = "3a2c62db-5318-420d-8d74-23affee5d9d5"
AUTHENTICATION_ADMINISTRATOR = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
APPLICATION_DEVELOPER = "cf1c38e5-3621-4004-a7cb-879624dced7c"
CLOUD_DEVICE_ADMINISTRATOR = "7698a772-787b-4ac8-901f-60d6b08affd2"
DIRECTORY_WRITERS = "9360feb5-f418-4baa-8175-e2a00bac4301"
HYBRID_IDENTITY_ADMINISTRATOR = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
IDENTITY_GOVERNANCE_ADMINISTRATOR = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
LIFECYCLE_WORKFLOWS_ADMINISTRATOR = "59d46f88-662b-457b-bceb-5c3809e5908f"
PASSWORD_ADMINISTRATOR = "966707d0-3269-4727-9be2-8c3a10f19b9d"
SECURITY_OPERATOR = "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"
AI_ADMINISTRATOR = "d2562ede-74db-457e-a7b6-544e236ebb61"
EXCHANGE_ADMINISTRATOR = "29232cdf-9323-42fd-ade2-1d097af3e4de"
SHAREPOINT_ADMINISTRATOR = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"
TEAMS_ADMINISTRATOR = "69091246-20e8-4a56-aa4d-066075b2a7a8"
GROUPS_ADMINISTRATOR = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
AUTHENTICATION_POLICY_ADMINISTRATOR = "0526716b-113d-4c15-b2c8-68e3c22b9f80"
BILLING_ADMINISTRATOR = "b0f54661-2d74-4c50-afa3-1ec803f12efe"
LICENSE_ADMINISTRATOR = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
EXCHANGE_RECIPIENT_ADMINISTRATOR = "31392ffb-586c-42d1-9346-e59415a2cc4e"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"

BUILT_IN_ROLES: tuple[RoleSpec, ...] = (
    # -- privileged (isPrivileged true) ------------------------------------------------------------------
    _role(
        GLOBAL_ADMINISTRATOR,
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
        True,
        0,
        (
            "microsoft.directory/roleAssignments/allProperties/allTasks",
            "microsoft.directory/users/allProperties/allTasks",
            "microsoft.directory/applications/allProperties/allTasks",
            "microsoft.directory/conditionalAccessPolicies/allProperties/allTasks",
        ),
        rate=8,
    ),
    _role(
        PRIVILEGED_ROLE_ADMINISTRATOR,
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
        True,
        0,
        (
            "microsoft.directory/roleAssignments/allProperties/allTasks",
            "microsoft.directory/roleDefinitions/allProperties/allTasks",
            "microsoft.directory/privilegedIdentityManagement/allProperties/allTasks",
        ),
        rate=6,
    ),
    _role(
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
        "Privileged Authentication Administrator",
        "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
        True,
        0,
        (
            "microsoft.directory/users/authenticationMethods/create",
            "microsoft.directory/users/authenticationMethods/delete",
            "microsoft.directory/users/password/update",
        ),
        au=True,
        rate=8,
    ),
    _role(
        SECURITY_ADMINISTRATOR,
        "Security Administrator",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
        True,
        0,
        (
            "microsoft.directory/conditionalAccessPolicies/create",
            "microsoft.directory/identityProtection/allProperties/allTasks",
            "microsoft.office365.protectionCenter/allEntities/allTasks",
        ),
        rate=14,
    ),
    _role(
        CONDITIONAL_ACCESS_ADMINISTRATOR,
        "Conditional Access Administrator",
        "Can manage Conditional Access capabilities.",
        True,
        0,
        (
            "microsoft.directory/conditionalAccessPolicies/create",
            "microsoft.directory/conditionalAccessPolicies/basic/update",
            "microsoft.directory/namedLocations/basic/update",
        ),
        rate=10,
    ),
    _role(
        HYBRID_IDENTITY_ADMINISTRATOR,
        "Hybrid Identity Administrator",
        "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through "
        "authentication (PTA), password hash synchronization (PHS), seamless single sign-on (seamless SSO), and "
        "federation settings.",
        True,
        0,
        (
            "microsoft.directory/onPremisesSynchronization/standard/read",
            "microsoft.directory/domains/federation/update",
            "microsoft.directory/cloudProvisioning/allProperties/allTasks",
        ),
        rate=6,
    ),
    _role(
        APPLICATION_ADMINISTRATOR,
        "Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps.",
        True,
        0,
        (
            "microsoft.directory/applications/create",
            "microsoft.directory/applications/credentials/update",
            "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
        ),
        rate=18,
    ),
    _role(
        CLOUD_APPLICATION_ADMINISTRATOR,
        "Cloud Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
        True,
        0,
        (
            "microsoft.directory/applications/create",
            "microsoft.directory/applications/credentials/update",
            "microsoft.directory/servicePrincipals/credentials/update",
        ),
        rate=18,
    ),
    _role(
        USER_ADMINISTRATOR,
        "User Administrator",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
        True,
        1,
        (
            "microsoft.directory/users/create",
            "microsoft.directory/users/basic/update",
            "microsoft.directory/users/password/update",
            "microsoft.directory/groups/members/update",
        ),
        au=True,
        rate=28,
    ),
    _role(
        AUTHENTICATION_ADMINISTRATOR,
        "Authentication Administrator",
        "Can access to view, set and reset authentication method information for any non-admin user.",
        True,
        1,
        (
            "microsoft.directory/users/authenticationMethods/create",
            "microsoft.directory/users/authenticationMethods/basic/update",
            "microsoft.directory/users/password/update",
        ),
        au=True,
        rate=22,
    ),
    _role(
        HELPDESK_ADMINISTRATOR,
        "Helpdesk Administrator",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
        True,
        1,
        ("microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens"),
        au=True,
        rate=48,
    ),
    _role(
        PASSWORD_ADMINISTRATOR,
        "Password Administrator",
        "Can reset passwords for non-administrators and Password Administrators.",
        True,
        1,
        ("microsoft.directory/users/password/update",),
        au=True,
        rate=26,
    ),
    _role(
        INTUNE_ADMINISTRATOR,
        "Intune Administrator",
        "Can manage all aspects of the Intune product.",
        True,
        1,
        (
            "microsoft.intune/allEntities/allTasks",
            "microsoft.directory/devices/basic/update",
            "microsoft.directory/groups/members/update",
        ),
        rate=30,
    ),
    _role(
        CLOUD_DEVICE_ADMINISTRATOR,
        "Cloud Device Administrator",
        "Limited access to manage devices in Microsoft Entra ID.",
        True,
        1,
        (
            "microsoft.directory/devices/delete",
            "microsoft.directory/devices/disable",
            "microsoft.directory/devices/enable",
        ),
        au=True,
        rate=14,
    ),
    _role(
        GLOBAL_READER,
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
        True,
        1,
        ("microsoft.directory/users/allProperties/read", "microsoft.directory/roleAssignments/allProperties/read"),
        rate=18,
    ),
    _role(
        SECURITY_OPERATOR,
        "Security Operator",
        "Creates and manages security events.",
        True,
        1,
        (
            "microsoft.directory/identityProtection/riskyUsers/update",
            "microsoft.office365.securityComplianceCenter/allEntities/allTasks",
        ),
        rate=26,
    ),
    _role(
        SECURITY_READER,
        "Security Reader",
        "Can read security information and reports in Microsoft Entra ID and Office 365.",
        True,
        1,
        ("microsoft.directory/auditLogs/allProperties/read", "microsoft.directory/signInReports/allProperties/read"),
        rate=20,
    ),
    _role(
        IDENTITY_GOVERNANCE_ADMINISTRATOR,
        "Identity Governance Administrator",
        "Manage access using Microsoft Entra ID for identity governance scenarios.",
        True,
        1,
        (
            "microsoft.directory/accessReviews/allProperties/allTasks",
            "microsoft.directory/entitlementManagement/allProperties/allTasks",
        ),
        rate=10,
    ),
    _role(
        LIFECYCLE_WORKFLOWS_ADMINISTRATOR,
        "Lifecycle Workflows Administrator",
        "Create and manage all aspects of workflows and tasks associated with Lifecycle Workflows in "
        "Microsoft Entra ID.",
        True,
        1,
        ("microsoft.directory/lifecycleWorkflows/workflows/allProperties/allTasks",),
        rate=6,
    ),
    _role(
        APPLICATION_DEVELOPER,
        "Application Developer",
        "Can create application registrations independent of the 'Users can register applications' setting.",
        True,
        1,
        ("microsoft.directory/applications/createAsOwner", "microsoft.directory/servicePrincipals/createAsOwner"),
        rate=8,
    ),
    _role(
        DIRECTORY_WRITERS,
        "Directory Writers",
        "Can read and write basic directory information. For granting access to applications, not intended for users.",
        True,
        1,
        ("microsoft.directory/users/basic/update", "microsoft.directory/groups/create"),
        rate=3,
    ),
    _role(
        AI_ADMINISTRATOR,
        "AI Administrator",
        "Manage all aspects of Microsoft 365 Copilot and AI-related enterprise services in Microsoft 365.",
        True,
        1,
        ("microsoft.office365.copilot/allEntities/allProperties/allTasks",),
        rate=6,
    ),
    _role(
        "25a516ed-2fa0-40ea-a2d0-12923a21473a",
        "Authentication Extensibility Administrator",
        "Customize sign in and sign up experiences for users by creating and managing custom "
        "authentication extensions.",
        True,
        1,
        ("microsoft.directory/customAuthenticationExtensions/allProperties/allTasks",),
    ),
    _role(
        "0b00bede-4072-4d22-b441-e7df02a1ef63",
        "Authentication Extensibility Password Administrator",
        "Configure and manage the authentication extensions that handle password scenarios.",
        True,
        1,
        ("microsoft.directory/customAuthenticationExtensions/allProperties/allTasks",),
    ),
    _role(
        "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe",
        "Attribute Provisioning Administrator",
        "Read and edit the provisioning configuration of all active custom security attributes for an application.",
        True,
        1,
        ("microsoft.directory/applications/synchronization/standard/read",),
    ),
    _role(
        "422218e4-db15-4ef9-bbe0-8afb41546d79",
        "Attribute Provisioning Reader",
        "Read the provisioning configuration of all active custom security attributes for an application.",
        True,
        1,
        ("microsoft.directory/applications/synchronization/standard/read",),
    ),
    _role(
        "aaf43236-0c0d-4d5f-883a-6955382ac081",
        "B2C IEF Keyset Administrator",
        "Can manage secrets for federation and encryption in the Identity Experience Framework (IEF).",
        True,
        1,
        ("microsoft.directory/b2cTrustFrameworkKeySet/allProperties/allTasks",),
    ),
    _role(
        "8329153b-31d0-4727-b945-745eb3bc5f31",
        "Domain Name Administrator",
        "Can manage domain names in cloud and on-premises.",
        True,
        1,
        ("microsoft.directory/domains/allProperties/allTasks",),
    ),
    _role(
        "be2f45a1-457d-42af-a067-6ec1fa63bc45",
        "External Identity Provider Administrator",
        "Can configure identity providers for use in direct federation.",
        True,
        1,
        ("microsoft.directory/identityProviders/allProperties/allTasks",),
    ),
    _role(
        "4ba39ca4-527c-499a-b93d-d9b492c50246",
        "Partner Tier1 Support",
        "Do not use - not intended for general use.",
        True,
        1,
        ("microsoft.directory/users/password/update",),
    ),
    _role(
        "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8",
        "Partner Tier2 Support",
        "Do not use - not intended for general use.",
        True,
        1,
        ("microsoft.directory/users/password/update", "microsoft.directory/domains/allProperties/allTasks"),
    ),
    _role(
        "1fe13547-53f6-408d-ac04-7f8eed167b38",
        "AI Reader",
        "Read-only access to Microsoft 365 Copilot and AI-related enterprise service settings.",
        True,
        1,
        ("microsoft.office365.copilot/allEntities/allProperties/read",),
    ),
    _role(
        "db506228-d27e-4b7d-95e5-295956d6615f",
        "Agent ID Administrator",
        "Manage all aspects of agent identities and their blueprints in Microsoft Entra ID.",
        True,
        1,
        ("microsoft.directory/agentIdentities/allProperties/allTasks",),
    ),
    _role(
        "1981f584-96e9-4a6f-95b0-f522373f8fae",
        "Tenant Governance Administrator",
        "Manage tenant governance settings and relationships between tenants.",
        True,
        1,
        ("microsoft.directory/tenantGovernance/allProperties/allTasks",),
    ),
    # -- not flagged privileged -------------------------------------------------------------------------
    _role(
        EXCHANGE_ADMINISTRATOR,
        "Exchange Administrator",
        "Can manage all aspects of the Exchange product.",
        False,
        # Not privileged to Microsoft, tier 0 to this programme (and to the attack-path reading): the role the
        # design raises, so the demo shows it counted as privileged everywhere (docs/metrics.md).
        0,
        ("microsoft.office365.exchange/allEntities/basic/allTasks", "microsoft.directory/groups.unified/create"),
        rate=30,
    ),
    _role(
        SHAREPOINT_ADMINISTRATOR,
        "SharePoint Administrator",
        "Can manage all aspects of the SharePoint service.",
        False,
        2,
        ("microsoft.office365.sharePoint/allEntities/allTasks", "microsoft.directory/groups.unified/create"),
        rate=18,
    ),
    _role(
        TEAMS_ADMINISTRATOR,
        "Teams Administrator",
        "Can manage the Microsoft Teams service.",
        False,
        2,
        ("microsoft.teams/allEntities/allProperties/allTasks", "microsoft.directory/groups.unified/basic/update"),
        rate=18,
    ),
    _role(
        GROUPS_ADMINISTRATOR,
        "Groups Administrator",
        "Members of this role can create/manage groups, create/manage groups settings like naming and expiration "
        "policies, and view groups activity and audit reports.",
        False,
        2,
        (
            "microsoft.directory/groups/create",
            "microsoft.directory/groups/members/update",
            "microsoft.directory/groupSettings/update",
        ),
        au=True,
        rate=16,
    ),
    _role(
        AUTHENTICATION_POLICY_ADMINISTRATOR,
        "Authentication Policy Administrator",
        "Can create and manage the authentication methods policy, tenant-wide MFA settings, password protection "
        "policy, and verifiable credentials.",
        False,
        2,
        (
            "microsoft.directory/authorizationPolicy/standard/read",
            "microsoft.directory/authenticationMethodPolicies/basic/update",
        ),
        rate=8,
    ),
    _role(
        BILLING_ADMINISTRATOR,
        "Billing Administrator",
        "Can perform common billing related tasks like updating payment information.",
        False,
        2,
        ("microsoft.commerce.billing/allEntities/allProperties/allTasks",),
        rate=10,
    ),
    _role(
        LICENSE_ADMINISTRATOR,
        "License Administrator",
        "Manage product licenses on users and groups.",
        False,
        2,
        ("microsoft.directory/users/assignLicense", "microsoft.directory/groups/assignLicense"),
        au=True,
        rate=12,
    ),
    _role(
        EXCHANGE_RECIPIENT_ADMINISTRATOR,
        "Exchange Recipient Administrator",
        "Can create or update Exchange Online recipients within the Exchange Online organization.",
        False,
        2,
        ("microsoft.office365.exchange/recipients/allProperties/allTasks",),
        rate=20,
    ),
    _role(
        DIRECTORY_READERS,
        "Directory Readers",
        "Can read basic directory information. Commonly used to grant directory read access to applications "
        "and guests.",
        False,
        2,
        ("microsoft.directory/users/standard/read", "microsoft.directory/groups/standard/read"),
        rate=3,
    ),
)


@dataclass(frozen=True, slots=True)
class CustomRoleSpec:
    key: str  # how personas refer to it; custom role ids are random per tenant
    name: str
    description: str
    is_privileged: bool
    actions: tuple[str, ...]
    activations_per_year: float


# Entra flags a custom role privileged when it holds a privileged action (password reset here).
CUSTOM_ROLES: tuple[CustomRoleSpec, ...] = (
    CustomRoleSpec(
        "custom:tier1-helpdesk",
        "Tier 1 Helpdesk (custom)",
        "Resets passwords and revokes sessions for non-admin users; no group or licence changes.",
        True,
        ("microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens"),
        30,
    ),
    CustomRoleSpec(
        "custom:app-registration-reader",
        "App Registration Reader (custom)",
        "Reads app registrations and enterprise apps, including their owners and credentials metadata.",
        False,
        ("microsoft.directory/applications/standard/read", "microsoft.directory/servicePrincipals/standard/read"),
        6,
    ),
    CustomRoleSpec(
        "custom:license-operator",
        "License Operator (custom)",
        "Assigns and removes product licenses; cannot change users otherwise.",
        False,
        ("microsoft.directory/users/assignLicense",),
        10,
    ),
)


@dataclass(frozen=True, slots=True)
class Office:
    city: str
    time_zone: str  # IANA name: activations follow this office's working hours
    country: str  # usageLocation
    # The same zone as Exchange Online names it by default in mailboxSettings.timeZone (a Windows name).
    windows_time_zone: str
    # Office addresses are hosts first_host..first_host+89 of a documentation network (RFC 5737), so no
    # address belongs to anyone.
    network: str
    first_host: int
    weight: int


OFFICES: tuple[Office, ...] = (
    Office("Amsterdam", "Europe/Amsterdam", "NL", "W. Europe Standard Time", "203.0.113", 10, 30),
    Office("London", "Europe/London", "GB", "GMT Standard Time", "198.51.100", 10, 20),
    Office("New York", "America/New_York", "US", "Eastern Standard Time", "192.0.2", 10, 17),
    # A second US zone, three hours behind: the design's per-country map cannot tell it from New York.
    Office("Seattle", "America/Los_Angeles", "US", "Pacific Standard Time", "192.0.2", 110, 8),
    Office("Singapore", "Asia/Singapore", "SG", "Singapore Standard Time", "203.0.113", 110, 15),
    Office("Sydney", "Australia/Sydney", "AU", "AUS Eastern Standard Time", "198.51.100", 110, 10),
)
HEADQUARTERS = OFFICES[0]
# The zone of each country in the design's per-country map: its first office's (New York for the US).
COUNTRY_TIME_ZONES = {
    country: next(office.time_zone for office in OFFICES if office.country == country)
    for country in dict.fromkeys(office.country for office in OFFICES)
}
# What mailboxSettings.timeZone says when the user set a zone of their own (workingHours then holds its rules).
CUSTOM_TIME_ZONE = "Customized Time Zone"


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    weight: int  # share of headcount
    admin_affinity: float  # how likely a person here holds an admin role
    job_titles: tuple[str, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "IT Operations",
        8,
        10.0,
        (
            "Systems Administrator",
            "Service Desk Analyst",
            "Cloud Engineer",
            "IT Operations Manager",
            "Workplace Engineer",
        ),
    ),
    Department(
        "Security", 4, 12.0, ("Security Analyst", "Security Engineer", "SOC Analyst", "Identity Architect", "CISO")
    ),
    Department(
        "Engineering",
        20,
        1.5,
        ("Software Engineer", "Senior Software Engineer", "DevOps Engineer", "Engineering Manager", "QA Engineer"),
    ),
    Department("Finance", 7, 0.6, ("Accountant", "Financial Analyst", "Finance Manager", "Controller")),
    Department("Human Resources", 5, 0.2, ("HR Generalist", "Recruiter", "HR Business Partner")),
    Department("Sales", 15, 0.1, ("Account Executive", "Sales Manager", "Sales Development Representative")),
    Department("Marketing", 8, 0.15, ("Marketing Specialist", "Content Manager", "Marketing Manager")),
    Department("Legal", 3, 0.1, ("Legal Counsel", "Paralegal", "Compliance Officer")),
    Department("Customer Support", 12, 0.4, ("Support Engineer", "Customer Success Manager", "Support Team Lead")),
    Department("Operations", 6, 0.3, ("Operations Analyst", "Facilities Coordinator", "Office Manager")),
)


# Admin personas: which roles a kind of administrator tends to hold, each with the chance of holding it.
# Role keys are template ids, or `custom:...` keys of CUSTOM_ROLES.
PERSONAS: dict[str, tuple[tuple[str, float], ...]] = {
    "tier0": (
        (GLOBAL_ADMINISTRATOR, 1.0),
        (PRIVILEGED_ROLE_ADMINISTRATOR, 0.6),
        (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, 0.35),
        (SECURITY_ADMINISTRATOR, 0.5),
        (GLOBAL_READER, 0.6),
        (CONDITIONAL_ACCESS_ADMINISTRATOR, 0.35),
        (HYBRID_IDENTITY_ADMINISTRATOR, 0.2),
    ),
    "security": (
        (SECURITY_READER, 0.8),
        (SECURITY_OPERATOR, 0.6),
        (SECURITY_ADMINISTRATOR, 0.35),
        (GLOBAL_READER, 0.45),
        (CONDITIONAL_ACCESS_ADMINISTRATOR, 0.2),
        (AUTHENTICATION_POLICY_ADMINISTRATOR, 0.2),
    ),
    "identity": (
        (USER_ADMINISTRATOR, 0.8),
        (GROUPS_ADMINISTRATOR, 0.55),
        (AUTHENTICATION_ADMINISTRATOR, 0.45),
        (IDENTITY_GOVERNANCE_ADMINISTRATOR, 0.3),
        (HYBRID_IDENTITY_ADMINISTRATOR, 0.12),
        (LIFECYCLE_WORKFLOWS_ADMINISTRATOR, 0.1),
        (LICENSE_ADMINISTRATOR, 0.25),
        (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, 0.08),
    ),
    "helpdesk": (
        (HELPDESK_ADMINISTRATOR, 0.9),
        (PASSWORD_ADMINISTRATOR, 0.4),
        (AUTHENTICATION_ADMINISTRATOR, 0.3),
        (USER_ADMINISTRATOR, 0.2),
        ("custom:tier1-helpdesk", 0.2),
        (DIRECTORY_READERS, 0.08),
    ),
    "m365": (
        (EXCHANGE_ADMINISTRATOR, 0.7),
        (SHAREPOINT_ADMINISTRATOR, 0.5),
        (TEAMS_ADMINISTRATOR, 0.55),
        (EXCHANGE_RECIPIENT_ADMINISTRATOR, 0.3),
        (LICENSE_ADMINISTRATOR, 0.3),
        (GROUPS_ADMINISTRATOR, 0.2),
    ),
    "apps": (
        (CLOUD_APPLICATION_ADMINISTRATOR, 0.6),
        (APPLICATION_ADMINISTRATOR, 0.45),
        (APPLICATION_DEVELOPER, 0.4),
        ("custom:app-registration-reader", 0.15),
        (AI_ADMINISTRATOR, 0.1),
        (DIRECTORY_WRITERS, 0.05),
    ),
    "endpoint": ((INTUNE_ADMINISTRATOR, 0.9), (CLOUD_DEVICE_ADMINISTRATOR, 0.5), (GLOBAL_READER, 0.2)),
    "billing": ((BILLING_ADMINISTRATOR, 0.9), (LICENSE_ADMINISTRATOR, 0.5), ("custom:license-operator", 0.25)),
}

# Which personas a department's admins take, with weights.
DEPARTMENT_PERSONAS: dict[str, tuple[tuple[str, int], ...]] = {
    "IT Operations": (("helpdesk", 35), ("m365", 25), ("identity", 20), ("endpoint", 20)),
    "Security": (("security", 60), ("identity", 25), ("apps", 15)),
    "Engineering": (("apps", 70), ("endpoint", 15), ("m365", 15)),
    "Finance": (("billing", 100),),
}
DEFAULT_PERSONAS: tuple[tuple[str, int], ...] = (("helpdesk", 50), ("m365", 35), ("billing", 15))


TENANT_NAMES: tuple[str, ...] = (
    "Contoso",
    "Fabrikam",
    "Northwind Traders",
    "Woodgrove Bank",
    "Tailspin Toys",
    "Adatum",
    "Litware",
    "Proseware",
    "Alpine Ski House",
    "Wingtip Toys",
    "Fourth Coffee",
    "Lamna Healthcare",
    "Relecloud",
    "Trey Research",
    "Coho Winery",
    "Wide World Importers",
)

# Partner organisations guests come from; `.example` is reserved, so no address is anyone's.
GUEST_DOMAINS: tuple[str, ...] = ("fabrikam-partners.example", "northwind-consulting.example", "adatum-msp.example")

FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Akira", "Alex", "Amara", "Ana", "Andreas", "Anika", "Arjun", "Astrid", "Ben", "Bianca", "Carlos",
    "Chen", "Chloe", "Daan", "Daniel", "Diego", "Divya", "Elena", "Emeka", "Emma", "Erik", "Fatima", "Felix",
    "Fiona", "Gabriel", "Grace", "Hana", "Hannah", "Hiroshi", "Ibrahim", "Ingrid", "Isabel", "Ivan", "Jack",
    "James", "Jasper", "Javier", "Jia", "Joost", "Julia", "Kai", "Karin", "Kavya", "Kenji", "Laila", "Lars",
    "Laura", "Leila", "Liam", "Lin", "Lotte", "Lucas", "Maria", "Mateo", "Maya", "Mei", "Mila", "Mohammed",
    "Nadia", "Naveen", "Nina", "Noah", "Olga", "Oliver", "Omar", "Pablo", "Priya", "Rafael", "Rahul", "Rosa",
    "Ruben", "Sakura", "Samir", "Sara", "Sean", "Sofia", "Sven", "Tariq", "Thomas", "Tom", "Uma", "Victor",
    "Wei", "Willem", "Yara", "Yusuf", "Zara", "Zoe", "Priyanka", "Olivia", "Ethan", "Marta", "Ravi", "Anouk",
    "Sophie", "Ming", "Tanvi", "Niamh", "Callum",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abe", "Ahmed", "Andersen", "Bakker", "Banerjee", "Becker", "Bos", "Brown", "Chan", "Chen", "Cohen", "Costa",
    "de Jong", "de Vries", "Dubois", "Evans", "Fernandez", "Fischer", "Garcia", "Gupta", "Hansen", "Hassan",
    "Hoffmann", "Huang", "Ito", "Jansen", "Johnson", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Li", "Lim",
    "Lopez", "Martin", "Meijer", "Meyer", "Mohamed", "Moreau", "Murphy", "Nakamura", "Nguyen", "Nielsen",
    "O'Brien", "Okafor", "Olsen", "Patel", "Peters", "Petrov", "Rossi", "Santos", "Sato", "Schmidt", "Singh",
    "Smit", "Smith", "Suzuki", "Tan", "Taylor", "Thompson", "van Dijk", "van den Berg", "Visser", "Wang",
    "Williams", "Wilson", "Wong", "Wu", "Yamamoto", "Yilmaz", "Zhang", "Ng", "Walsh", "Novak", "Haddad",
    "Mensah", "Kaur", "Reyes", "Sharma",
)  # fmt: skip


# Justifications. Three habits, so the warehouse's quality scoring has a spread to find.
TICKET_TASKS: tuple[str, ...] = (
    "reset MFA for locked-out user",
    "update Conditional Access exclusions for the travel group",
    "rotate client secret on the HR connector",
    "patch Exchange connector",
    "investigate risky sign-in alert",
    "onboard new starters",
    "offboard leavers from the weekly HR report",
    "review audit logs for the quarterly access review",
    "grant mailbox permissions for shared inbox",
    "update Intune compliance policy",
    "clean up unused licences",
    "fix SSO configuration for the expense app",
    "restore deleted group",
    "approve pending app consent request",
    "troubleshoot Teams meeting policy",
    "update named locations after office move",
    "configure SharePoint external sharing for the partner site",
)
WEAK_JUSTIFICATIONS: tuple[str, ...] = (
    "fix",
    "admin work",
    "maintenance",
    "support",
    "ticket",
    "work",
    "as discussed",
    "user request",
    "config",
    "needed for task",
    "check settings",
    "troubleshooting",
)
PLACEHOLDER_JUSTIFICATIONS: tuple[str, ...] = (".", "x", "fix", "n/a", "-")

APPROVAL_REASONS: tuple[str, ...] = (
    "Approved",
    "ok",
    "Approved per change window",
    "Looks good",
    "Approved - ticket verified",
    "approved",
    "Go ahead",
)
DENIAL_REASONS: tuple[str, ...] = (
    "No ticket referenced",
    "Please use Global Reader for read-only tasks",
    "Not in the change window",
    "Insufficient justification",
    "Duplicate request",
    "Talk to the identity team first",
)
FAILURE_REASONS: tuple[str, ...] = (
    "The MFA requirement of the role's activation policy was not satisfied.",
    "The role assignment could not be provisioned. Please try again later.",
    "The request was rejected because the eligibility is being updated.",
)

# Tenant applications: (display name, type). Sizes above S add numbered copies per environment.
SERVICE_PRINCIPALS: tuple[tuple[str, str], ...] = (
    ("HR Provisioning Connector", "Application"),
    ("Legacy Provisioner", "Application"),
    ("Security Posture Scanner", "Application"),
    ("Backup Automation", "Application"),
    ("ServiceNow Graph Connector", "Application"),
    ("Terraform Deployer", "Application"),
    ("Intune Reporting", "Application"),
    ("Teams Archiver", "Application"),
    ("GitHub Actions Deploy", "Application"),
    ("mi-automation-prod", "ManagedIdentity"),
    ("mi-func-user-lifecycle", "ManagedIdentity"),
    ("mi-logicapp-offboarding", "ManagedIdentity"),
)
# Roles apps hold (always active: Entra does not make service principals eligible), with weights.
SERVICE_PRINCIPAL_ROLES: tuple[tuple[str, float], ...] = (
    (DIRECTORY_READERS, 5.0),
    (GLOBAL_READER, 3.0),
    (USER_ADMINISTRATOR, 2.0),
    (EXCHANGE_ADMINISTRATOR, 2.0),
    (CLOUD_APPLICATION_ADMINISTRATOR, 2.0),
    (GROUPS_ADMINISTRATOR, 2.0),
    (SECURITY_READER, 2.0),
    (APPLICATION_ADMINISTRATOR, 1.0),
    (INTUNE_ADMINISTRATOR, 1.0),
    (DIRECTORY_WRITERS, 1.0),
    (SHAREPOINT_ADMINISTRATOR, 1.0),
    (PRIVILEGED_ROLE_ADMINISTRATOR, 0.3),
    (GLOBAL_ADMINISTRATOR, 0.2),
)
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # owner of Microsoft's first-party apps
