"""Which Graph application permissions each collection needs (shared/reference/graph-pim.md §0, §2-§8).

Used only when `EmulatorOptions.granted_permissions` is set, to test that a least-privilege app gets the
same 403 a real tenant would give it. Each rule lists alternatives; one alternative is a set of permissions
that must all be granted (auditLogs needs AuditLog.Read.All *and* Directory.Read.All). The collections no
application permission opens (`APP_ONLY_REFUSED`) are refused whatever is granted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.emulator.paths import matches


@dataclass(frozen=True)
class PermissionRule:
    alternatives: tuple[frozenset[str], ...]
    # PIM endpoints answer a missing scope with PermissionScopeNotGranted; directory ones with
    # Authorization_RequestDenied.
    pim: bool = False


def _any_of(*names: str, pim: bool = False) -> PermissionRule:
    return PermissionRule(tuple(frozenset({name}) for name in names), pim)


_DIRECTORY_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
_ROLE_READ = ("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory")

# First match wins; patterns match segment by segment with fnmatch, a shorter pattern matches a prefix.
PERMISSION_RULES: tuple[tuple[tuple[str, ...], PermissionRule], ...] = (
    # Listing requests needs ReadWrite: a documented quirk (graph-pim.md §2.4).
    (
        ("roleManagement", "directory", "roleAssignmentScheduleRequests"),
        _any_of("RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory", pim=True),
    ),
    (
        ("roleManagement", "directory", "roleEligibilityScheduleRequests"),
        _any_of("RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory", pim=True),
    ),
    (
        ("roleManagement", "directory", "roleAssignmentSchedule*"),
        _any_of(
            "RoleAssignmentSchedule.Read.Directory", "RoleAssignmentSchedule.ReadWrite.Directory", *_ROLE_READ, pim=True
        ),
    ),
    (
        ("roleManagement", "directory", "roleEligibilitySchedule*"),
        _any_of(
            "RoleEligibilitySchedule.Read.Directory",
            "RoleEligibilitySchedule.ReadWrite.Directory",
            *_ROLE_READ,
            pim=True,
        ),
    ),
    # Intune's and Exchange's RBAC providers (beta): permissions of their own, the directory ones do not reach them.
    (
        ("roleManagement", "deviceManagement"),
        _any_of("DeviceManagementRBAC.Read.All", "DeviceManagementRBAC.ReadWrite.All"),
    ),
    (
        ("roleManagement", "exchange"),
        _any_of("RoleManagement.Read.Exchange", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Exchange"),
    ),
    (("roleManagement",), _any_of(*_ROLE_READ, *_DIRECTORY_READ, pim=True)),
    (
        ("policies", "roleManagementPolic*"),
        _any_of(
            "RoleManagementPolicy.Read.Directory",
            "RoleManagementPolicy.ReadWrite.Directory",
            "RoleManagementPolicy.Read.AzureADGroup",
            "RoleManagementPolicy.ReadWrite.AzureADGroup",
            pim=True,
        ),
    ),
    (
        ("identityGovernance", "privilegedAccess", "group", "assignment*"),
        _any_of(
            "PrivilegedAssignmentSchedule.Read.AzureADGroup",
            "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",
            "PrivilegedAccess.Read.AzureADGroup",
            "PrivilegedAccess.ReadWrite.AzureADGroup",
            pim=True,
        ),
    ),
    (
        ("identityGovernance", "privilegedAccess", "group", "eligibility*"),
        _any_of(
            "PrivilegedEligibilitySchedule.Read.AzureADGroup",
            "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
            "PrivilegedAccess.Read.AzureADGroup",
            "PrivilegedAccess.ReadWrite.AzureADGroup",
            pim=True,
        ),
    ),
    (("identityGovernance", "accessReviews"), _any_of("AccessReview.Read.All", "AccessReview.ReadWrite.All")),
    (
        ("identityGovernance", "roleManagementAlerts"),
        _any_of("RoleManagementAlert.Read.Directory", "RoleManagementAlert.ReadWrite.Directory", pim=True),
    ),
    (
        ("auditLogs",),
        PermissionRule((frozenset({"AuditLog.Read.All", "Directory.Read.All"}),)),
    ),
    # Mailbox settings need their own permission: the directory ones do not reach Exchange.
    (("users", "*", "mailboxSettings"), _any_of("MailboxSettings.Read", "MailboxSettings.ReadWrite")),
    (("users",), _any_of("User.Read.All", "User.ReadWrite.All", *_DIRECTORY_READ)),
    (("groups",), _any_of("Group.Read.All", "GroupMember.Read.All", "Group.ReadWrite.All", *_DIRECTORY_READ)),
    (("servicePrincipals",), _any_of("Application.Read.All", "Application.ReadWrite.All", *_DIRECTORY_READ)),
    (("applications",), _any_of("Application.Read.All", "Application.ReadWrite.All", *_DIRECTORY_READ)),
    (("oauth2PermissionGrants",), _any_of("DelegatedPermissionGrant.Read.All", *_DIRECTORY_READ)),
    (("organization",), _any_of("Organization.Read.All", *_DIRECTORY_READ)),
    (("identity", "conditionalAccess"), _any_of("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")),
    (("directory", "administrativeUnits"), _any_of("AdministrativeUnit.Read.All", *_DIRECTORY_READ)),
)


# Collections whose Graph page lists "Application: Not supported": an app-only token is refused there whatever it
# holds. Every token the emulator issues is app-only (client secret, managed identity, federated assertion), so these
# always answer 403. Graph documents no error body for this refusal; the emulator gives the one of a missing
# permission.
APP_ONLY_REFUSED: tuple[tuple[str, ...], ...] = (
    # beta "List roleDefinitions", Exchange Online provider: delegated only (its roleAssignments take
    # RoleManagement.Read.Exchange as an application permission).
    ("roleManagement", "exchange", "roleDefinitions"),
)


def refuses_app_only(path: list[str]) -> bool:
    """Whether Graph refuses an app-only token on this collection path (without API version)."""
    return any(matches(path, pattern) for pattern in APP_ONLY_REFUSED)


def missing_permission(path: list[str], granted: set[str]) -> PermissionRule | None:
    """The rule `granted` fails for this collection path (without API version), or None when allowed.

    Paths no rule names are allowed: the table covers what pimlens reads, not all of Graph.
    """
    for pattern, rule in PERMISSION_RULES:
        if matches(path, pattern):
            return None if any(option <= granted for option in rule.alternatives) else rule
    return None


def denial_message(rule: PermissionRule) -> tuple[str, str]:
    """Graph's error code and message for a request the app lacks permission for."""
    if rule.pim:
        scopes = ",".join(sorted(name for option in rule.alternatives for name in option))
        return "PermissionScopeNotGranted", f"Authorization failed due to missing permission scope {scopes}."
    return "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
