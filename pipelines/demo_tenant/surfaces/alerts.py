"""PIM security alerts (beta `identityGovernance/roleManagementAlerts`, graph-pim.md §10), from the tenant.

Thresholds are the emulator defaults graph-pim.md suggests (GA 3 / 10 %, P30D, P30D, PT1H / 3). Incidents are
computed from the model, the request history digest and the sign-ins written beside them, so a check of an
alert against the other files can only fail if one of them is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import DAY, HOUR, Instant, iso, iso_or_none
from pipelines.demo_tenant.model import PrincipalType
from pipelines.demo_tenant.surfaces.context import Context, Json
from pipelines.demo_tenant.surfaces.schedules import HistoryDigest

GA_COUNT_THRESHOLD = 3
GA_PERCENT_THRESHOLD = 10
STALE_DAYS = 30
REDUNDANT_DAYS = 30
SEQUENCE_INTERVAL = "PT1H"
SEQUENCE_THRESHOLD = 3

# AlertId -> (severity, display name, configuration @odata.type stem, incident @odata.type stem, description)
DEFINITIONS: dict[str, tuple[str, str, str, str]] = {
    "TooManyGlobalAdminsAssignedToTenantAlert": (
        "low",
        "There are too many global administrators",
        "tooManyGlobalAdminsAssignedToTenant",
        "Global administrator is the highest privileged role; {0} users hold it.",
    ),
    "RolesAssignedOutsidePimAlert": (
        "high",
        "Roles are being assigned outside of Privileged Identity Management",
        "rolesAssignedOutsidePrivilegedIdentityManagement",
        "Privileged role assignments made outside of PIM are not monitored and may indicate an attack.",
    ),
    "NoMfaOnRoleActivationAlert": (
        "medium",
        "Roles don't require multi-factor authentication for activation",
        "noMfaOnRoleActivation",
        "Without MFA, compromised users can activate privileged roles.",
    ),
    "RedundantAssignmentAlert": (
        "low",
        "Administrators aren't using their privileged roles",
        "redundantAssignment",
        "Eligible administrators who have not activated their role in {0} days.",
    ),
    "StaleSignInAlert": (
        "medium",
        "Potential stale accounts in a privileged role",
        "staleSignIn",
        "Accounts in a privileged role that have not signed in during the past {0} days.",
    ),
    "SequentialActivationRenewalsAlert": (
        "medium",
        "Roles are being activated too frequently",
        "sequentialActivationRenewals",
        "Multiple activations of the same role by the same user in a short time.",
    ),
    "InvalidLicenseAlert": (
        "high",
        "The organization doesn't have Microsoft Entra ID P2 or Microsoft Entra ID Governance",
        "invalidLicense",
        "PIM needs an Entra ID P2 or Governance licence.",
    ),
}
_SCOPE = {"scopeId": "/", "scopeType": "DirectoryRole"}


class Alerts:
    def __init__(self, ctx: Context, digest: HistoryDigest, last_sign_in: dict[str, Instant]):
        self.ctx = ctx
        self.digest = digest
        self.last_sign_in = last_sign_in
        self.prefix = f"DirectoryRole_{ctx.model.tenant.id}_"

    def _assignee(self, principal_id: str, role_id: str) -> Json:
        role = self.ctx.roles[role_id]
        user = self.ctx.users.get(principal_id)
        return {
            "assigneeId": principal_id,
            "assigneeDisplayName": self.ctx.display_name(principal_id),
            "assigneeUserPrincipalName": user.user_principal_name if user else None,
            "roleDefinitionId": role_id,
            "roleDisplayName": role.display_name,
            "roleTemplateId": role_id,
        }

    def definitions(self) -> list[Json]:
        return [
            {
                "id": self.prefix + alert_id,
                "displayName": name,
                "description": description,
                "severityLevel": severity,
                "securityImpact": description,
                "mitigationSteps": "Review the incidents and remove or convert the assignments in PIM.",
                "howToPrevent": "Assign privileged roles through PIM, eligible and time-bound.",
                "isRemediatable": alert_id != "InvalidLicenseAlert",
                "isConfigurable": alert_id not in ("NoMfaOnRoleActivationAlert", "InvalidLicenseAlert"),
                **_SCOPE,
            }
            for alert_id, (severity, name, _, description) in DEFINITIONS.items()
        ]

    def configurations(self) -> list[Json]:
        extra: dict[str, Json] = {
            "TooManyGlobalAdminsAssignedToTenantAlert": {
                "globalAdminCountThreshold": GA_COUNT_THRESHOLD,
                "percentageOfGlobalAdminsOutOfRolesThreshold": GA_PERCENT_THRESHOLD,
            },
            "RedundantAssignmentAlert": {"duration": f"P{REDUNDANT_DAYS}D"},
            "StaleSignInAlert": {"duration": f"P{STALE_DAYS}D"},
            "SequentialActivationRenewalsAlert": {
                "timeIntervalBetweenActivations": SEQUENCE_INTERVAL,
                "sequentialActivationCounterThreshold": SEQUENCE_THRESHOLD,
            },
        }
        return [
            {
                "@odata.type": f"#microsoft.graph.{stem}AlertConfiguration",
                "id": self.prefix + alert_id,
                "alertDefinitionId": self.prefix + alert_id,
                **_SCOPE,
                "isEnabled": True,
                **extra.get(alert_id, {}),
            }
            for alert_id, (_, _, stem, _) in DEFINITIONS.items()
        ]

    def incidents(self) -> dict[str, list[Json]]:
        """AlertId -> its incidents (each with its subtype's @odata.type)."""
        ctx, as_of = self.ctx, self.ctx.as_of
        found: dict[str, list[Json]] = {alert_id: [] for alert_id in DEFINITIONS}
        current = ctx.model.current_eligibilities()

        ga_holders = dict.fromkeys(
            [e.principal_id for e in current if e.role_id == catalog.GLOBAL_ADMINISTRATOR]
            + [a.principal_id for a in ctx.model.assignments if a.role_id == catalog.GLOBAL_ADMINISTRATOR]
        )
        privileged = {e.principal_id for e in current} | {a.principal_id for a in ctx.model.assignments}
        if len(ga_holders) > GA_COUNT_THRESHOLD and 100 * len(ga_holders) > GA_PERCENT_THRESHOLD * len(privileged):
            found["TooManyGlobalAdminsAssignedToTenantAlert"] = [
                {"id": f"{p}_{catalog.GLOBAL_ADMINISTRATOR}", **self._assignee(p, catalog.GLOBAL_ADMINISTRATOR)}
                for p in ga_holders
            ]

        found["RolesAssignedOutsidePimAlert"] = [
            {
                "id": a.id,
                **self._assignee(a.principal_id, a.role_id),
                "assignmentCreatedDateTime": iso(a.start),
                "lastActivationDateTime": None,
            }
            for a in ctx.outside_pim
        ]

        eligible_roles = dict.fromkeys(e.role_id for e in current)
        found["NoMfaOnRoleActivationAlert"] = [
            {
                "id": role_id,
                "roleDefinitionId": role_id,
                "roleDisplayName": ctx.roles[role_id].display_name,
                "roleTemplateId": role_id,
            }
            for role_id in eligible_roles
            if ctx.roles[role_id].is_privileged and not ctx.policies[role_id].requires_mfa
        ]

        redundant = []
        for e in current:
            if e.principal_type is not PrincipalType.USER or e.start > as_of - REDUNDANT_DAYS * DAY:
                continue
            last = self.digest.last_activation.get((e.principal_id, e.role_id))
            if last is None or last < as_of - REDUNDANT_DAYS * DAY:
                redundant.append(
                    {
                        "id": e.id,
                        **self._assignee(e.principal_id, e.role_id),
                        "assignmentCreatedDateTime": iso(e.start),
                        "lastActivationDateTime": iso_or_none(last),
                    }
                )
        found["RedundantAssignmentAlert"] = redundant

        stale, seen = [], set()
        for holding in [*current, *ctx.model.assignments]:
            key = (holding.principal_id, holding.role_id)
            if holding.principal_type is not PrincipalType.USER or key in seen:
                continue
            seen.add(key)
            if not ctx.roles[holding.role_id].is_privileged:
                continue
            last = self.last_sign_in.get(holding.principal_id)
            if last is None or last < as_of - STALE_DAYS * DAY:
                stale.append(
                    {
                        "id": f"{holding.principal_id}_{holding.role_id}",
                        **self._assignee(holding.principal_id, holding.role_id),
                        "assignmentCreatedDateTime": iso(holding.start),
                        "lastSignInDateTime": iso_or_none(last),
                    }
                )
        found["StaleSignInAlert"] = _unique(stale)

        found["SequentialActivationRenewalsAlert"] = [
            {
                "id": f"{eligibility_id}_{iso(first)}",
                **self._assignee(principal, role),
                "activationCount": count,
                "sequenceStartDateTime": iso(first),
                "sequenceEndDateTime": iso(last),
            }
            for eligibility_id, principal, role, count, first, last in self.digest.sequences
        ]
        typed: dict[str, list[Json]] = {}
        for alert_id, rows in found.items():
            stem = DEFINITIONS[alert_id][2]
            typed[alert_id] = [{"@odata.type": f"#microsoft.graph.{stem}AlertIncident", **row} for row in rows]
        return typed

    def alerts(self, incidents: dict[str, list[Json]]) -> list[Json]:
        as_of = self.ctx.as_of
        return [
            {
                "id": self.prefix + alert_id,
                "alertDefinitionId": self.prefix + alert_id,
                **_SCOPE,
                "incidentCount": len(incidents[alert_id]),
                "isActive": bool(incidents[alert_id]),
                "lastModifiedDateTime": iso(as_of - 5 * HOUR),
                "lastScannedDateTime": iso(as_of - HOUR),
            }
            for alert_id in DEFINITIONS
        ]


def _unique(rows: Sequence[Json]) -> list[Json]:
    return list({row["id"]: row for row in rows}.values())
