"""The other PIM surfaces: every file parses, ids are unique, and every reference resolves to the tenant."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from pipelines.demo_tenant.clock import from_datetime, iso
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.write import GRAPH_AUDIT_RETENTION

from .reading import AS_OF, DIRECTORY, Tenant, is_surface, millis

GROUP_PIM = "v1.0/identityGovernance/privilegedAccess/group"
REVIEWS = "v1.0/identityGovernance/accessReviews/definitions"
ALERTS = "beta/identityGovernance/roleManagementAlerts"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ROLE_MANAGEMENT_READWRITE = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"
ARM_OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def surface_files(root: Path) -> list[Path]:
    graph = [p for top in ("v1.0", "beta") for p in (root / top).rglob("*.json") if is_surface(root, p)]
    return sorted(graph + list((root / "arm").rglob("*.json")))


def ids(rows: list[dict]) -> set[str]:
    return {r["id"] for r in rows}


def test_every_surface_file_is_a_non_empty_array_with_unique_ids(tenant: Tenant) -> None:
    files = surface_files(tenant.root)
    assert len(files) > 40
    for path in files:
        rows = orjson.loads(path.read_bytes())
        assert isinstance(rows, list) and rows, path
        keys = [r["id"] for r in rows]
        assert all(isinstance(k, str) for k in keys) and len(keys) == len(set(keys)), path
    for table in ("AuditLogs", "SigninLogs"):
        rows = tenant.collection(f"loganalytics/{table}.json")
        assert rows and len({r["Id"] for r in rows}) == len(rows)


def test_no_timestamp_is_after_as_of(tenant: Tenant) -> None:
    as_of = millis(AS_OF.isoformat())
    for relative in (
        f"{DIRECTORY}/roleAssignmentScheduleRequests.json",
        f"{DIRECTORY}/roleEligibilityScheduleRequests.json",
        f"{DIRECTORY}/roleEligibilitySchedules.json",
        f"{DIRECTORY}/roleAssignmentSchedules.json",
    ):
        for row in tenant.collection(relative):
            assert millis(row["createdDateTime"]) <= as_of, relative
            assert row.get("completedDateTime") is None or millis(row["completedDateTime"]) <= as_of, relative
    assert max(millis(r["TimeGenerated"]) for r in tenant.collection("loganalytics/SigninLogs.json")) <= as_of


def test_schedules_match_the_instances_one_to_one(tenant: Tenant) -> None:
    eligible = tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json")
    active = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    e_schedules = {s["id"]: s for s in tenant.collection(f"{DIRECTORY}/roleEligibilitySchedules.json")}
    a_schedules = {s["id"]: s for s in tenant.collection(f"{DIRECTORY}/roleAssignmentSchedules.json")}
    assert {i["roleEligibilityScheduleId"] for i in eligible} == set(e_schedules)
    assert {i["roleAssignmentScheduleId"] for i in active} == set(a_schedules)
    for i in active:
        s = a_schedules[i["roleAssignmentScheduleId"]]
        assert (s["principalId"], s["roleDefinitionId"], s["assignmentType"], s["status"]) == (
            i["principalId"],
            i["roleDefinitionId"],
            i["assignmentType"],
            "Provisioned",
        )
    requests = {r["id"]: r for r in tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleRequests.json")}
    eligibility_requests = ids(tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleRequests.json"))
    assert {s["createdUsing"] for s in e_schedules.values()} <= eligibility_requests
    for s in a_schedules.values():
        made_by = requests[s["createdUsing"]]
        assert made_by["targetScheduleId"] == s["id"]
        assert made_by["action"] == ("selfActivate" if s["assignmentType"] == "Activated" else "adminAssign")


def test_activation_requests_are_the_audited_ones(tenant: Tenant) -> None:
    requests = [
        r
        for r in tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleRequests.json")
        if r["action"] == "selfActivate"
    ]
    audited = tenant.activation_requests()
    assert {r["id"] for r in requests} == set(audited)
    statuses = Counter(r["status"] for r in requests)
    assert {"Provisioned", "Denied", "Canceled", "Failed"} <= set(statuses)
    for r in requests:
        steps = audited[r["id"]]
        assert (
            steps["requested"].principal_id == r["principalId"] and steps["requested"].role_id == r["roleDefinitionId"]
        )
        assert (r["status"] == "Denied") == ("denied" in steps)


def test_every_reference_resolves(tenant: Tenant, model: TenantModel) -> None:
    users = ids(tenant.collection("v1.0/users.json"))
    groups = ids(tenant.collection("v1.0/groups.json"))
    sps = {s["id"]: s for s in tenant.collection("v1.0/servicePrincipals.json")}
    principals = users | groups | set(sps)
    # Schedules name a custom role by its template id (docs/tenant-format.md).
    roles = {r["templateId"] for r in tenant.collection(f"{DIRECTORY}/roleDefinitions.json")}
    unlisted = {e.role_id for e in model.unlisted_role_eligibilities}
    assert unlisted and not unlisted & roles  # seed 7 holds a role the catalogue lacks, as real tenants may
    named = set()
    for relative in ("Schedules", "ScheduleRequests"):
        for kind in ("roleAssignment", "roleEligibility"):
            for row in tenant.collection(f"{DIRECTORY}/{kind}{relative}.json"):
                assert row["principalId"] in principals and row["roleDefinitionId"] in roles | unlisted
                named.add(row["roleDefinitionId"])
    assert unlisted <= named

    directory_roles = tenant.collection("v1.0/directoryRoles.json")
    assert {r["roleTemplateId"] for r in directory_roles} <= roles
    members = [m for r in directory_roles for m in _optional(tenant, f"v1.0/directoryRoles/{r['id']}/members.json")]
    assert {m["id"] for m in members} <= principals
    assert {m["@odata.type"] for m in members} >= {"#microsoft.graph.user", "#microsoft.graph.servicePrincipal"}

    role_assignable = {g["id"] for g in tenant.collection("v1.0/groups.json") if g["isAssignableToRole"]}
    instances = tenant.collection(f"{GROUP_PIM}/eligibilityScheduleInstances.json") + tenant.collection(
        f"{GROUP_PIM}/assignmentScheduleInstances.json"
    )
    assert {i["groupId"] for i in instances} <= role_assignable and {i["principalId"] for i in instances} <= users
    assert {i["accessId"] for i in instances} == {"member", "owner"}
    assert {i.get("assignmentType") for i in instances} == {None, "assigned", "activated"}
    group_policies = [
        a for a in tenant.collection("v1.0/policies/roleManagementPolicyAssignments.json") if a["scopeType"] == "Group"
    ]
    assert {a["scopeId"] for a in group_policies} == {i["groupId"] for i in instances}
    assert {a["roleDefinitionId"] for a in group_policies} == {"member", "owner"}
    for a in group_policies:
        assert len(tenant.collection(f"v1.0/policies/roleManagementPolicies/{a['policyId']}/rules.json")) == 17
    # Users and an app, never a group: a role-assignable group cannot contain groups.
    group_members = [m for g in role_assignable for m in _optional(tenant, f"v1.0/groups/{g}/transitiveMembers.json")]
    assert {m["id"] for m in group_members} <= users | set(sps)
    assert {m["@odata.type"] for m in group_members} == {"#microsoft.graph.user", "#microsoft.graph.servicePrincipal"}

    graph = next(s for s in sps.values() if s["appId"] == GRAPH_APP_ID)
    app_roles = {r["id"] for r in graph["appRoles"]}
    held = [a for sp in sps for a in _optional(tenant, f"v1.0/servicePrincipals/{sp}/appRoleAssignments.json")]
    assert {a["appRoleId"] for a in held} <= app_roles and ROLE_MANAGEMENT_READWRITE in {a["appRoleId"] for a in held}
    assert {a["principalId"] for a in held} <= set(sps) and {a["resourceId"] for a in held} == {graph["id"]}
    for app in tenant.collection("v1.0/applications.json"):
        assert app["appId"] in {s["appId"] for s in sps.values()}
        assert {o["id"] for o in _optional(tenant, f"v1.0/applications/{app['id']}/owners.json")} <= principals
    for grant in tenant.collection("v1.0/oauth2PermissionGrants.json"):
        assert grant["clientId"] in sps and grant["resourceId"] == graph["id"]
        assert (grant["principalId"] is None) == (grant["consentType"] == "AllPrincipals")


def test_access_reviews_decide_on_real_holders(tenant: Tenant) -> None:
    users = ids(tenant.collection("v1.0/users.json"))
    definitions = tenant.collection(f"{REVIEWS}.json")
    assert definitions
    decisions = []
    for d in definitions:
        assert "roleDefinitionId eq" in d["scope"]["query"]
        for instance in tenant.collection(f"{REVIEWS}/{d['id']}/instances.json"):
            rows = _optional(tenant, f"{REVIEWS}/{d['id']}/instances/{instance['id']}/decisions.json")
            assert all(r["accessReviewId"] == instance["id"] for r in rows)
            decisions += [(instance, r) for r in rows]
    assert {r["principal"]["id"] for _, r in decisions} <= users
    assert {r["decision"] for _, r in decisions} == {"Approve", "Deny", "NotReviewed"}
    assert any(r["reviewedBy"]["id"] == r["principal"]["id"] for _, r in decisions)  # self-reviews
    late = [r for i, r in decisions if r["reviewedDateTime"] and r["reviewedDateTime"] > i["endDateTime"]]
    assert late


def test_alerts_match_the_tenant(tenant: Tenant) -> None:
    alerts = {a["id"].rsplit("_", 1)[1]: a for a in tenant.collection(f"{ALERTS}/alerts.json")}
    assert len(alerts) == 7 and len(tenant.collection(f"{ALERTS}/alertConfigurations.json")) == 7
    outside = {
        a["id"]
        for a in tenant.collection(f"{DIRECTORY}/roleAssignments.json")
        if a["id"] not in ids(tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json"))
    }
    alert = alerts["RolesAssignedOutsidePimAlert"]
    incidents = _optional(tenant, f"{ALERTS}/alerts/{alert['id']}/alertIncidents.json")
    assert {i["id"] for i in incidents} == outside and alert["incidentCount"] == len(outside) > 0
    for alert in alerts.values():
        rows = _optional(tenant, f"{ALERTS}/alerts/{alert['id']}/alertIncidents.json")
        assert alert["incidentCount"] == len(rows) and alert["isActive"] == bool(rows)


def test_log_analytics_audit_rows_are_the_graph_events(tenant: Tenant) -> None:
    """The workspace keeps the year; Graph serves the same events for their last 30 days only."""
    rows = tenant.collection("loganalytics/AuditLogs.json")
    graph = tenant.collection("v1.0/auditLogs/directoryAudits.json")
    retained_from = iso(from_datetime(AS_OF) - GRAPH_AUDIT_RETENTION)
    assert rows[0]["ActivityDateTime"] < retained_from <= graph[0]["activityDateTime"]
    recent = [row for row in rows if row["ActivityDateTime"] >= retained_from]
    assert [r["Id"] for r in recent] == [event["id"] for event in graph]
    for row, event in zip(recent, graph, strict=True):
        assert row["ActivityDisplayName"] == event["activityDisplayName"] == row["OperationName"]
        assert row["TargetResources"] == event["targetResources"] and row["InitiatedBy"] == event["initiatedBy"]
        assert row["LoggedByService"] == event["loggedByService"]
    signins = tenant.collection("loganalytics/SigninLogs.json")
    users = ids(tenant.collection("v1.0/users.json"))
    assert {s["UserId"] for s in signins} <= users
    assert {s["AuthenticationRequirement"] for s in signins} == {
        "multiFactorAuthentication",
        "singleFactorAuthentication",
    }
    assert "0" in {s["ResultType"] for s in signins} and len({s["ResultType"] for s in signins}) > 1


MANAGEMENT_GROUPS = "/providers/Microsoft.Management/managementGroups/"


def test_azure_rbac_references_resolve(tenant: Tenant) -> None:
    principals = (
        ids(tenant.collection("v1.0/users.json"))
        | ids(tenant.collection("v1.0/groups.json"))
        | ids(tenant.collection("v1.0/servicePrincipals.json"))
    )
    subscriptions = list((tenant.root / "arm" / "subscriptions").iterdir())
    assert len(subscriptions) == 1
    base = subscriptions[0] / "providers" / "Microsoft.Authorization"
    definitions = ids(orjson.loads((base / "roleDefinitions.json").read_bytes()))
    assert any(d.endswith(ARM_OWNER) for d in definitions)
    assignments = orjson.loads((base / "roleAssignments.json").read_bytes())
    guids = {definition.rsplit("/", 1)[1] for definition in definitions}
    subscription = f"/subscriptions/{subscriptions[0].name}"
    scopes = set()
    for name in ("roleEligibilityScheduleInstances", "roleAssignmentScheduleInstances", "roleAssignments"):
        for row in orjson.loads((base / f"{name}.json").read_bytes()):
            p = row["properties"]
            assert row["id"].endswith("/" + row["name"]) and row["type"] == f"Microsoft.Authorization/{name}"
            assert row["id"].startswith(p["scope"] + "/providers/Microsoft.Authorization/")
            assert p["principalId"] in principals and p["roleDefinitionId"].rsplit("/", 1)[1] in guids
            # Listed without $filter: at the subscription, below it, or inherited from its management group.
            assert p["scope"].startswith(subscription) or p["scope"].startswith(MANAGEMENT_GROUPS), p["scope"]
            scopes.add(p["scope"].removeprefix(subscription).count("/"))
    assert {0, 2, 6} <= scopes  # the subscription, a resource group, a resource in it
    for row in orjson.loads((base / "roleAssignmentScheduleInstances.json").read_bytes()):
        assert row["properties"]["originRoleAssignmentId"] in ids(assignments)


def _optional(tenant: Tenant, relative: str) -> list[dict]:
    path = tenant.root / relative
    return orjson.loads(path.read_bytes()) if path.is_file() else []


def test_sign_ins_carry_location_and_device_details_and_plant_trips_new_devices_and_break_glass_tests(
    tenant: Tenant,
) -> None:
    """SigninLogs rows in the table's shape (LocationDetails and DeviceDetail dynamic columns), with activation
    sign-ins from abroad and from unregistered devices, and the break-glass accounts signing in only to test."""
    signins = tenant.collection("loganalytics/SigninLogs.json")
    users = {u["id"]: u for u in tenant.collection("v1.0/users.json")}
    assert all(s["LocationDetails"]["countryOrRegion"] == s["Location"] for s in signins)
    abroad = [s for s in signins if s["Location"] != users[s["UserId"]]["usageLocation"]]
    assert abroad and all(
        s["IPAddress"].startswith("198.18.") and s["AppDisplayName"] == "Azure Portal" for s in abroad
    )
    unregistered = [s for s in signins if not s["DeviceDetail"]["deviceId"]]
    assert unregistered and all(not s["DeviceDetail"]["isManaged"] for s in unregistered)
    assert len({s["DeviceDetail"]["operatingSystem"] for s in unregistered}) >= 2
    glass = {user_id for user_id, user in users.items() if user["userPrincipalName"].startswith("breakglass")}
    tests = [s for s in signins if s["UserId"] in glass]
    assert tests and all(s["AppDisplayName"] == "Azure Portal" and s["ResultType"] == "0" for s in tests)
    assert any(millis(s["TimeGenerated"]) > millis("2026-10-02T00:00:00Z") for s in tests)  # one in the last 30 days


def test_delegated_grants_plant_a_user_consent_to_a_tool_that_manages_every_app(tenant: Tenant) -> None:
    grants = tenant.collection("v1.0/oauth2PermissionGrants.json")
    sps = {sp["id"]: sp["displayName"] for sp in tenant.collection("v1.0/servicePrincipals.json")}
    assert {(sps[g["clientId"]], g["consentType"], g["scope"]) for g in grants if "ReadWrite" in g["scope"]} == {
        ("Terraform Deployer", "Principal", "Application.ReadWrite.All User.Read")
    }


def test_conditional_access_policies_have_graph_shape_and_exclude_break_glass_from_the_enforced_ones(
    tenant: Tenant,
) -> None:
    policies = tenant.collection("v1.0/identity/conditionalAccess/policies.json")
    users = tenant.collection("v1.0/users.json")
    glass = {u["id"] for u in users if u["userPrincipalName"].startswith("breakglass")}
    assert {p["state"] for p in policies} == {"enabled", "disabled", "enabledForReportingButNotEnforced"}
    enforced = [p for p in policies if p["state"] == "enabled"]
    excluded = [set(p["conditions"]["users"]["excludeUsers"]) for p in enforced]
    # Every enforced policy excludes the first account; one forgets the second (the check must find it).
    assert all(len(glass & names) >= 1 for names in excluded) and sum(glass <= names for names in excluded) == 2
    mfa = next(p for p in policies if p["displayName"].startswith("CA001"))
    assert mfa["grantControls"]["builtInControls"] == ["mfa"] and mfa["conditions"]["users"]["includeRoles"]
