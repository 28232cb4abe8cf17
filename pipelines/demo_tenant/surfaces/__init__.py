"""The PIM surfaces beyond the core files: schedules and requests, directoryRoles, PIM for Groups, apps and
their permissions, access reviews, PIM alerts, Log Analytics tables, Azure RBAC and Intune's and Exchange's RBAC
(docs/tenant-format.md).

write.py calls in twice: the group policies join the directory policy files it writes, and `write` adds
every other file at the end, once the core files are on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pipelines.demo_tenant import wire
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.surfaces.alerts import Alerts
from pipelines.demo_tenant.surfaces.apps import Apps, with_app_roles
from pipelines.demo_tenant.surfaces.arm import AzureRbac
from pipelines.demo_tenant.surfaces.conditional_access import conditional_access_policies, policy_json
from pipelines.demo_tenant.surfaces.context import Context, Json
from pipelines.demo_tenant.surfaces.groups import PimGroups
from pipelines.demo_tenant.surfaces.loganalytics import SignIns, audit_rows
from pipelines.demo_tenant.surfaces.m365_roles import M365Roles
from pipelines.demo_tenant.surfaces.reviews import AccessReviews
from pipelines.demo_tenant.surfaces.schedules import Schedules

__all__ = ["Surfaces", "with_app_roles"]

DIRECTORY = "v1.0/roleManagement/directory"
GROUP_PIM = "v1.0/identityGovernance/privilegedAccess/group"
REVIEWS = "v1.0/identityGovernance/accessReviews/definitions"
ALERTS = "beta/identityGovernance/roleManagementAlerts"

Write = Callable[[str, Iterable[dict[str, Any]]], None]


class Surfaces:
    def __init__(self, model: TenantModel):
        self.ctx = Context(model)
        self.groups = PimGroups(self.ctx)

    # -- hooks into the policy files write.py owns -----------------------------------------------------------

    def group_policy_assignments(self) -> list[Json]:
        return self.groups.policy_assignments()

    def group_policies(self) -> list[Json]:
        return self.groups.policy_objects()

    # -- every other file ------------------------------------------------------------------------------------

    def write(self, collection: Write) -> None:
        ctx = self.ctx
        for _, _, policy in self.groups.policies:
            collection(
                f"v1.0/policies/roleManagementPolicies/{policy.id}/rules.json", wire.policy_rules(policy, ctx.users)
            )

        schedules = Schedules(ctx)
        collection(f"{DIRECTORY}/roleEligibilitySchedules.json", schedules.eligibility_schedules())
        collection(f"{DIRECTORY}/roleEligibilityScheduleRequests.json", schedules.eligibility_requests())
        collection(f"{DIRECTORY}/roleAssignmentScheduleRequests.json", schedules.assignment_requests())
        digest = schedules.digest  # complete now that the requests have streamed by
        collection(f"{DIRECTORY}/roleAssignmentSchedules.json", schedules.assignment_schedules(digest.live_request))
        roles, members = schedules.directory_roles()
        collection("v1.0/directoryRoles.json", roles)
        for role_object_id, objects in members.items():
            collection(f"v1.0/directoryRoles/{role_object_id}/members.json", objects)

        collection(f"{GROUP_PIM}/eligibilityScheduleInstances.json", self.groups.eligibility_instances())
        collection(f"{GROUP_PIM}/assignmentScheduleInstances.json", self.groups.assignment_instances())
        for group_id, objects in self.groups.transitive_members().items():
            collection(f"v1.0/groups/{group_id}/transitiveMembers.json", objects)

        apps = Apps(ctx)
        collection("v1.0/applications.json", apps.applications())
        app_owners, sp_owners = apps.owners()
        for application_id, objects in app_owners.items():
            collection(f"v1.0/applications/{application_id}/owners.json", objects)
        for sp_id, objects in sp_owners.items():
            collection(f"v1.0/servicePrincipals/{sp_id}/owners.json", objects)
        for sp_id, rows in apps.app_role_assignments().items():
            collection(f"v1.0/servicePrincipals/{sp_id}/appRoleAssignments.json", rows)
        collection("v1.0/oauth2PermissionGrants.json", apps.oauth2_permission_grants())
        collection(
            "v1.0/identity/conditionalAccess/policies.json",
            [policy_json(ctx.model, policy) for policy in conditional_access_policies(ctx.model)],
        )

        reviews = AccessReviews(ctx)
        collection(f"{REVIEWS}.json", reviews.definitions)
        for definition_id, instances in reviews.instances.items():
            collection(f"{REVIEWS}/{definition_id}/instances.json", instances)
        for (definition_id, instance_id), decisions in reviews.decisions.items():
            if decisions:
                collection(f"{REVIEWS}/{definition_id}/instances/{instance_id}/decisions.json", decisions)

        collection("loganalytics/AuditLogs.json", audit_rows(ctx))
        sign_ins = SignIns(ctx)
        collection("loganalytics/SigninLogs.json", sign_ins.rows())

        alerts = Alerts(ctx, digest, sign_ins.last_sign_in)
        incidents = alerts.incidents()
        collection(f"{ALERTS}/alertDefinitions.json", alerts.definitions())
        collection(f"{ALERTS}/alertConfigurations.json", alerts.configurations())
        collection(f"{ALERTS}/alerts.json", alerts.alerts(incidents))
        for alert in alerts.alerts(incidents):
            rows = incidents[alert["id"].removeprefix(alerts.prefix)]
            if rows:
                collection(f"{ALERTS}/alerts/{alert['id']}/alertIncidents.json", rows)

        for relative, rows in AzureRbac(ctx).files.items():
            collection(relative, rows)

        for relative, rows in M365Roles(ctx).files.items():
            collection(relative, rows)
