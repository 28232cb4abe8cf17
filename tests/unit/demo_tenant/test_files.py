"""The written collections: Graph's shapes, unique ids, and a state that hangs together."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import orjson

from pipelines.demo_tenant import programme
from pipelines.demo_tenant.catalog import GLOBAL_ADMINISTRATOR, OFFICES
from pipelines.demo_tenant.model import TenantModel

from .reading import AS_OF, DIRECTORY, Tenant, is_surface, millis

RULE_TYPES = {
    "Expiration": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
    "Enablement": "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule",
    "Notification": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule",
    "Approval": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
    "AuthenticationContext": "#microsoft.graph.unifiedRoleManagementPolicyAuthenticationContextRule",
}
RULE_IDS = {
    "Expiration_Admin_Eligibility",
    "Enablement_Admin_Eligibility",
    "Notification_Admin_Admin_Eligibility",
    "Notification_Requestor_Admin_Eligibility",
    "Notification_Approver_Admin_Eligibility",
    "Expiration_Admin_Assignment",
    "Enablement_Admin_Assignment",
    "Notification_Admin_Admin_Assignment",
    "Notification_Requestor_Admin_Assignment",
    "Notification_Approver_Admin_Assignment",
    "Approval_EndUser_Assignment",
    "AuthenticationContext_EndUser_Assignment",
    "Enablement_EndUser_Assignment",
    "Expiration_EndUser_Assignment",
    "Notification_Admin_EndUser_Assignment",
    "Notification_Requestor_EndUser_Assignment",
    "Notification_Approver_EndUser_Assignment",
}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def collection_files(root: Path) -> list[Path]:
    return sorted(p for top in ("v1.0", "beta") for p in (root / top).rglob("*.json"))


def test_every_collection_is_an_array_of_objects_with_unique_string_ids(tenant: Tenant) -> None:
    files = collection_files(tenant.root)
    core = [p for p in files if not is_surface(tenant.root, p)]
    assert len(core) == 14 + len(tenant.collection("v1.0/policies/roleManagementPolicies.json"))
    for path in files:
        items = orjson.loads(path.read_bytes())
        assert isinstance(items, list) and items, path
        assert all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in items), path
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)), path


def test_mailboxes_name_zones_the_windows_way_the_iana_way_or_a_custom_way_and_admin_accounts_have_none(
    tenant: Tenant,
) -> None:
    users = {u["id"]: u for u in tenant.collection("v1.0/users.json")}
    mailboxes = {m["id"]: m for m in tenant.collection("v1.0/mailboxSettings.json")}
    # Exactly the people with a mail address in the tenant's own domains have a mailbox: not admin accounts,
    # guests or break-glass accounts, who get Graph's 404.
    assert set(mailboxes) == {i for i, u in users.items() if u["mail"] and u["userType"] == "Member"}
    windows_names = {office.windows_time_zone for office in OFFICES}
    iana_names = {office.time_zone for office in OFFICES}
    kinds = Counter(
        "windows" if m["timeZone"] in windows_names else "iana" if m["timeZone"] in iana_names else m["timeZone"]
        for m in mailboxes.values()
    )
    assert set(kinds) == {"windows", "iana", "Customized Time Zone"} and kinds["windows"] > kinds["iana"]
    custom = [m for m in mailboxes.values() if m["timeZone"] == "Customized Time Zone"]
    assert all(m["workingHours"]["timeZone"]["@odata.type"] == "#microsoft.graph.customTimeZone" for m in custom)
    # Two US zones among mailboxes: the per-country map alone cannot tell them apart.
    us_zones = {
        m["workingHours"]["timeZone"]["name"] for i, m in mailboxes.items() if users[i]["usageLocation"] == "US"
    }
    assert {"Eastern Standard Time", "Pacific Standard Time"} <= us_zones


def test_users_look_like_a_hybrid_tenant(tenant: Tenant) -> None:
    users = tenant.collection("v1.0/users.json")
    assert len(users) == 150
    domain = tenant.collection("v1.0/organization.json")[0]["verifiedDomains"][1]["name"]
    assert domain.endswith(".onmicrosoft.com")
    guests = [u for u in users if u["userType"] == "Guest"]
    assert len(guests) == 6
    assert all(
        re.fullmatch(rf"[a-z0-9.]+_[a-z0-9.-]+#EXT#@{re.escape(domain)}", g["userPrincipalName"]) for g in guests
    )
    synced = [u for u in users if u["onPremisesSyncEnabled"]]
    assert 80 <= len(synced) <= 130
    assert all(len(u["onPremisesImmutableId"]) == 24 for u in synced)
    assert all(
        u["onPremisesImmutableId"] is None and u["onPremisesSyncEnabled"] is None for u in users if u not in synced
    )
    cities = {o.city for o in OFFICES}
    assert {u["officeLocation"] for u in users if u["userType"] == "Member"} == cities
    assert all(
        TIMESTAMP.match(u["createdDateTime"]) and millis(u["createdDateTime"]) < millis("2026-11-01T00:00:00Z")
        for u in users
    )


def test_two_cloud_only_break_glass_accounts_hold_permanent_global_administrator(tenant: Tenant) -> None:
    users = tenant.collection("v1.0/users.json")
    glass = [u for u in users if u["displayName"].startswith("Break Glass")]
    assert [u["displayName"] for u in glass] == ["Break Glass 1", "Break Glass 2"]
    assert all(
        u["userPrincipalName"].endswith(".onmicrosoft.com") and u["onPremisesImmutableId"] is None for u in glass
    )
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    for account in glass:
        held = [i for i in instances if i["principalId"] == account["id"]]
        assert [(i["roleDefinitionId"], i["assignmentType"], i["endDateTime"]) for i in held] == [
            (GLOBAL_ADMINISTRATOR, "Assigned", None)
        ]


def test_service_principals_carry_credential_metadata_only(tenant: Tenant) -> None:
    sps = tenant.collection("v1.0/servicePrincipals.json")
    assert Counter(sp["servicePrincipalType"] for sp in sps) == {"Application": 10, "ManagedIdentity": 3}
    credentials = [c for sp in sps for c in sp["passwordCredentials"] + sp["keyCredentials"]]
    assert credentials
    for credential in credentials:
        assert {"keyId", "displayName", "startDateTime", "endDateTime"} <= set(credential)
        assert "secretText" not in credential and "key" not in credential


def test_role_definitions_flag_privilege_in_beta_only(tenant: Tenant) -> None:
    beta = tenant.collection("beta/roleManagement/directory/roleDefinitions.json")
    v1 = tenant.collection(f"{DIRECTORY}/roleDefinitions.json")
    assert [r["id"] for r in beta] == [r["id"] for r in v1]
    assert all("isPrivileged" not in r for r in v1)
    by_id = {r["id"]: r for r in beta}
    assert by_id[GLOBAL_ADMINISTRATOR]["isPrivileged"] is True
    assert by_id["29232cdf-9323-42fd-ade2-1d097af3e4de"]["isPrivileged"] is False  # Exchange Administrator
    # A built-in role's id is its template id; a custom role's is not, and its schedules and policies name it by
    # the template id, as in real tenants (docs/tenant-format.md).
    custom = [r for r in beta if not r["isBuiltIn"]]
    assert len(custom) == 3 and all(r["templateId"] != r["id"] for r in custom)
    assert all(r["templateId"] == r["id"] for r in beta if r["isBuiltIn"])
    assert all(r["rolePermissions"][0]["allowedResourceActions"] for r in beta)


def test_every_role_has_a_policy_with_the_17_rules(tenant: Tenant) -> None:
    roles = {r["templateId"] for r in tenant.collection(f"{DIRECTORY}/roleDefinitions.json")}
    # Directory roles only, as `$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'` returns them; the
    # PIM-for-Groups rows (scopeType Group) are checked in test_surfaces.py.
    assignments = [
        a
        for a in tenant.collection("v1.0/policies/roleManagementPolicyAssignments.json")
        if a["scopeType"] == "DirectoryRole"
    ]
    policies = {p["id"]: p for p in tenant.collection("v1.0/policies/roleManagementPolicies.json")}
    user_ids = {u["id"] for u in tenant.collection("v1.0/users.json")}
    assignable = {g["id"] for g in tenant.collection("v1.0/groups.json") if g["isAssignableToRole"]}
    tenant_id = tenant.truth.tenant_id
    assert {a["roleDefinitionId"] for a in assignments} == roles
    durations = set()
    unknown_approvers: set[str] = set()
    group_approvers: set[str] = set()
    for a in assignments:
        assert a["id"] == f"{a['policyId']}_{a['roleDefinitionId']}"
        assert (a["scopeId"], a["scopeType"]) == ("/", "DirectoryRole")
        policy = policies[a["policyId"]]
        assert policy["id"].startswith(f"DirectoryRole_{tenant_id}_") and policy["isOrganizationDefault"] is False
        rules = tenant.collection(f"v1.0/policies/roleManagementPolicies/{policy['id']}/rules.json")
        assert {r["id"] for r in rules} == RULE_IDS
        for rule in rules:
            kind, *_, caller, level = rule["id"].split("_")
            assert rule["@odata.type"] == RULE_TYPES[kind]
            assert (rule["target"]["caller"], rule["target"]["level"]) == (caller, level)
        by_id = {r["id"]: r for r in rules}
        durations.add(by_id["Expiration_EndUser_Assignment"]["maximumDuration"])
        for approver in by_id["Approval_EndUser_Assignment"]["setting"]["approvalStages"][0]["primaryApprovers"]:
            if approver["@odata.type"] == "#microsoft.graph.groupMembers":
                group_approvers.add(approver["groupId"])
            else:
                assert approver["@odata.type"] == "#microsoft.graph.singleUser"
                unknown_approvers |= {approver["userId"]} - user_ids
    # Planted (pipelines/demo_tenant/governance.py): one deleted account, one role-assignable group and one plain
    # security group as approvers.
    assert len(unknown_approvers) == 1 and len(group_approvers & assignable) == 1
    assert len(group_approvers - assignable) == 1
    assert durations <= {"PT1H", "PT2H", "PT4H", "PT8H", "PT10H", "PT12H", "PT24H"} and len(durations) >= 3


def test_policies_mix_compliant_and_non_compliant_settings(tenant: Tenant) -> None:
    approval = tenant.approval_roles()
    privileged = {
        r["id"] for r in tenant.collection("beta/roleManagement/directory/roleDefinitions.json") if r["isPrivileged"]
    }
    assert GLOBAL_ADMINISTRATOR in approval and len(approval[GLOBAL_ADMINISTRATOR]) >= 1
    assert 2 <= len(approval) < len(privileged)  # some tier-0 roles need approval, not all
    enabled = []
    permanent_eligible = 0
    for policy in tenant.collection("v1.0/policies/roleManagementPolicies.json"):
        if policy["scopeType"] != "DirectoryRole":
            continue
        rules = {
            r["id"]: r for r in tenant.collection(f"v1.0/policies/roleManagementPolicies/{policy['id']}/rules.json")
        }
        enabled.append(set(rules["Enablement_EndUser_Assignment"]["enabledRules"]))
        permanent_eligible += not rules["Expiration_Admin_Eligibility"]["isExpirationRequired"]
    mfa = sum("MultiFactorAuthentication" in e for e in enabled)
    assert len(enabled) // 2 < mfa < len(enabled)
    assert len(enabled) // 2 < sum("Justification" in e for e in enabled) < len(enabled)
    assert 1 <= sum("Ticketing" in e for e in enabled) < len(enabled) // 3
    assert 1 <= permanent_eligible < len(enabled)


def test_state_at_as_of_hangs_together(tenant: Tenant) -> None:
    eligible = tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json")
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    assignments = tenant.collection(f"{DIRECTORY}/roleAssignments.json")
    as_of = millis(AS_OF.isoformat())
    assert all(e["id"].endswith("-e") and e["memberType"] == "Direct" for e in eligible)
    assert any(e["endDateTime"] is None for e in eligible) and any(e["endDateTime"] for e in eligible)
    assert any(e["directoryScopeId"].startswith("/administrativeUnits/") for e in eligible)
    units = {u["id"] for u in tenant.collection("v1.0/directory/administrativeUnits.json")}
    for item in eligible + instances:
        assert millis(item["startDateTime"]) <= as_of
        assert item["endDateTime"] is None or millis(item["endDateTime"]) > as_of
        scope = item["directoryScopeId"]
        assert scope == "/" or scope.removeprefix("/administrativeUnits/") in units
    # One roleAssignment per instance, with the instance's origin id; the rest were made outside PIM.
    origins = {i["roleAssignmentOriginId"] for i in instances}
    assert all(i["id"] == i["roleAssignmentOriginId"] for i in instances)
    assert origins <= {a["id"] for a in assignments}
    outside = [a for a in assignments if a["id"] not in origins]
    # The size's outside-PIM assignments, plus the planted membership burst's (one more than its threshold).
    assert len(outside) == 5 + programme.MEMBERSHIP_BURST_COUNT + 1
    # A live activation is of something the principal is eligible for, on the same scope.
    eligible_keys = {(e["principalId"], e["roleDefinitionId"], e["directoryScopeId"]) for e in eligible}
    activated = [i for i in instances if i["assignmentType"] == "Activated"]
    assert len(activated) == 4
    assert all((i["principalId"], i["roleDefinitionId"], i["directoryScopeId"]) in eligible_keys for i in activated)
    assert {i["assignmentType"] for i in instances} == {"Assigned", "Activated"}


def test_service_principals_hold_active_roles_only(tenant: Tenant) -> None:
    sp_ids = {sp["id"] for sp in tenant.collection("v1.0/servicePrincipals.json")}
    eligible = tenant.collection(f"{DIRECTORY}/roleEligibilityScheduleInstances.json")
    assert not any(e["principalId"] in sp_ids for e in eligible)
    instances = tenant.collection(f"{DIRECTORY}/roleAssignmentScheduleInstances.json")
    origins = {i["roleAssignmentOriginId"] for i in instances}
    held = [a for a in tenant.collection(f"{DIRECTORY}/roleAssignments.json") if a["principalId"] in sp_ids]
    assert sum(a["id"] in origins for a in held) == 2 and sum(a["id"] not in origins for a in held) == 3


def test_model_ids_are_unique(model: TenantModel) -> None:
    eligibility_ids = [e.id for e in model.eligibilities]
    assert len(eligibility_ids) == len(set(eligibility_ids))
    assignment_ids = [a.id for a in model.assignments]
    assert len(assignment_ids) == len(set(assignment_ids))
