import pytest

from .conftest import GraphClient, graph_error, http, users

POLICY_ID = "DirectoryRole_c9a5d7f1-0000-4000-8000-000000000001_p1"
POLICY_FILTER = "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'"
RULES = [
    {
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyEnablementRule",
        "id": "Enablement_EndUser_Assignment",
        "enabledRules": ["MultiFactorAuthentication", "Justification"],
    },
    {
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
        "id": "Expiration_EndUser_Assignment",
        "maximumDuration": "PT8H",
    },
]
POLICY_FILES = {
    "v1.0/policies/roleManagementPolicies": [
        {"id": POLICY_ID, "scopeId": "/", "scopeType": "DirectoryRole", "displayName": "Directory"},
        {"id": "Group_g1_p2", "scopeId": "g1", "scopeType": "Group", "displayName": "Group"},
    ],
    f"v1.0/policies/roleManagementPolicies/{POLICY_ID}/rules": RULES,
    "v1.0/policies/roleManagementPolicyAssignments": [
        {
            "id": f"{POLICY_ID}_role{i}",
            "policyId": POLICY_ID,
            "scopeId": "/",
            "scopeType": "DirectoryRole",
            "roleDefinitionId": f"role{i}",
        }
        for i in range(3)
    ]
    + [
        {
            "id": "Group_g1_p2_member",
            "policyId": "Group_g1_p2",
            "scopeId": "g1",
            "scopeType": "Group",
            "roleDefinitionId": "member",
        }
    ],
}


@pytest.mark.parametrize("top", [1, 7, 100, 250, 999])
def test_paging_returns_every_record_exactly_once(serve, top: int) -> None:
    emulator = serve({"v1.0/users": users(250)})
    records, pages = GraphClient(emulator).all_pages(f"/v1.0/users?$top={top}")
    assert [r["id"] for r in records] == [f"u{i:04d}" for i in range(250)]
    assert pages == -(-250 // top)
    stats = emulator.stats()
    assert stats["pages_served"] == {"v1.0/users": pages}
    assert stats["rows_served"] == {"v1.0/users": 250}


def test_default_page_is_100_and_next_link_keeps_the_query(serve) -> None:
    emulator = serve({"v1.0/users": users(250)})
    body = GraphClient(emulator).get("/v1.0/users?$select=id&$filter=age ge 0").json()
    assert len(body["value"]) == 100
    next_link = body["@odata.nextLink"]
    assert next_link.startswith(f"{emulator.url}/v1.0/users?$select=id&$filter=age%20ge%200&$skiptoken=")
    assert body["@odata.context"] == f"{emulator.url}/v1.0/$metadata#users(id)"


def test_percent_encoded_and_dollarless_names_page_the_same(serve) -> None:
    emulator = serve({"v1.0/users": users(30)})
    client = GraphClient(emulator)
    for query in ("%24top=10", "top=10"):
        records, pages = client.all_pages(f"/v1.0/users?{query}")
        assert (len(records), pages) == (30, 3)


@pytest.mark.parametrize("top", [1000, 0, -1])
def test_top_outside_1_to_999_is_a_bad_request(serve, top: int) -> None:
    emulator = serve({"v1.0/users": users(3)})
    response = GraphClient(emulator).get(f"/v1.0/users?$top={top}")
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."


def test_pim_collections_page_server_side_whatever_top_says(serve) -> None:
    instances = [{"id": f"i{i}-e", "principalId": f"p{i}"} for i in range(230)]
    emulator = serve({"v1.0/roleManagement/directory/roleEligibilityScheduleInstances": instances})
    client = GraphClient(emulator)
    first = client.get("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$top=999").json()
    assert len(first["value"]) == 100
    records, pages = client.all_pages("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$top=5")
    assert (records, pages) == (instances, 3)


def test_a_token_from_another_query_is_refused(serve) -> None:
    emulator = serve({"v1.0/users": users(20)})
    client = GraphClient(emulator)
    next_link = client.get("/v1.0/users?$top=5").json()["@odata.nextLink"]
    token = next_link.split("$skiptoken=")[1]
    response = client.get(f"/v1.0/users?$top=6&$skiptoken={token}")
    assert response.status_code == 400
    assert graph_error(response)["code"] == "Directory_InvalidPageToken"


def test_filter_select_and_orderby(serve) -> None:
    emulator = serve({"v1.0/users": users(60)})
    client = GraphClient(emulator)
    body = client.get(
        "/v1.0/users?$filter=accountEnabled eq false and age lt 10&$select=id,age&$orderby=age desc"
    ).json()
    # accountEnabled is false for every third user; ages 0..9 among them are u0000, u0003, u0006, u0009, u0051...
    assert body["value"] == [
        {"id": "u0009", "age": 9},
        {"id": "u0057", "age": 7},
        {"id": "u0006", "age": 6},
        {"id": "u0054", "age": 4},
        {"id": "u0003", "age": 3},
        {"id": "u0051", "age": 1},
        {"id": "u0000", "age": 0},
    ]


def test_select_keeps_only_the_selected_properties_and_the_odata_type(serve) -> None:
    emulator = serve(POLICY_FILES)
    body = GraphClient(emulator).get(f"/v1.0/policies/roleManagementPolicies/{POLICY_ID}/rules?$select=id").json()
    assert body["value"] == [{"@odata.type": r["@odata.type"], "id": r["id"]} for r in RULES]


def test_nested_filter_and_datetime_order(serve) -> None:
    audits = [
        {"id": "a1", "activityDateTime": "2024-05-02T08:11:01.112Z", "initiatedBy": {"user": {"id": "ann"}}},
        {"id": "a2", "activityDateTime": "2024-05-02T08:11:01Z", "initiatedBy": {"user": {"id": "ann"}}},
        {"id": "a3", "activityDateTime": "2024-05-01T00:00:00Z", "initiatedBy": {"user": {"id": "bob"}}},
    ]
    emulator = serve({"v1.0/auditLogs/directoryAudits": audits})
    body = (
        GraphClient(emulator)
        .get(
            "/v1.0/auditLogs/directoryAudits?$filter=initiatedBy/user/id eq 'ann' and activityDateTime ge "
            "2024-05-02T00:00:00Z&$orderby=activityDateTime asc"
        )
        .json()
    )
    assert [a["id"] for a in body["value"]] == ["a2", "a1"]


def test_policy_assignments_expand_policy_and_rules_by_joining_files(serve) -> None:
    emulator = serve(POLICY_FILES)
    body = (
        GraphClient(emulator)
        .get(f"/v1.0/policies/roleManagementPolicyAssignments?{POLICY_FILTER}&$expand=policy($expand=rules)")
        .json()
    )
    assert [a["roleDefinitionId"] for a in body["value"]] == ["role0", "role1", "role2"]
    policy = body["value"][0]["policy"]
    assert policy["displayName"] == "Directory"
    assert policy["rules"] == RULES


def test_policies_expand_rules_and_group_scope_filter(serve) -> None:
    emulator = serve(POLICY_FILES)
    client = GraphClient(emulator)
    body = client.get(f"/v1.0/policies/roleManagementPolicies?{POLICY_FILTER}&$expand=rules").json()
    assert [(p["id"], p["rules"]) for p in body["value"]] == [(POLICY_ID, RULES)]
    body = client.get("/v1.0/policies/roleManagementPolicies?$filter=scopeId eq 'g1' and scopeType eq 'Group'").json()
    assert [p["id"] for p in body["value"]] == ["Group_g1_p2"]
    assert "rules" not in body["value"][0]


@pytest.mark.parametrize("scope_type", ["Directory", "DirectoryRole"])
def test_directory_role_policies_answer_either_scope_type_and_echo_it(serve, scope_type: str) -> None:
    """Graph accepts Directory and DirectoryRole for directory roles and echoes the one sent in scopeType and ids."""
    emulator = serve(POLICY_FILES)
    query = f"$filter=scopeId eq '/' and scopeType eq '{scope_type}'&$expand=policy($expand=rules)"
    body = GraphClient(emulator).get(f"/v1.0/policies/roleManagementPolicyAssignments?{query}").json()
    assert [(a["id"], a["scopeType"], a["roleDefinitionId"]) for a in body["value"]] == [
        (f"{scope_type}_c9a5d7f1-0000-4000-8000-000000000001_p1_role{i}", scope_type, f"role{i}") for i in range(3)
    ]
    first = body["value"][0]
    assert first["policyId"] == first["policy"]["id"] == f"{scope_type}_c9a5d7f1-0000-4000-8000-000000000001_p1"
    assert first["policy"]["rules"] == RULES


def test_rules_held_inline_in_the_policy_file_are_served_only_when_expanded(serve) -> None:
    inline = {
        "v1.0/policies/roleManagementPolicies": [
            {"id": "Directory_t_p9", "scopeId": "/", "scopeType": "Directory", "rules": RULES},
            {"id": "Directory_t_p8", "scopeId": "/", "scopeType": "Directory", "rules": []},
        ],
        "v1.0/policies/roleManagementPolicyAssignments": [
            {"id": f"Directory_t_{p}_r", "policyId": f"Directory_t_{p}", "scopeId": "/", "scopeType": "Directory"}
            for p in ("p9", "p8")
        ],
    }
    client = GraphClient(serve(inline))
    expanded = client.get(
        f"/v1.0/policies/roleManagementPolicyAssignments?{POLICY_FILTER}&$expand=policy($expand=rules)"
    ).json()
    assert [a["policy"]["rules"] for a in expanded["value"]] == [RULES, []]
    plain = client.get(f"/v1.0/policies/roleManagementPolicyAssignments?{POLICY_FILTER}&$expand=policy").json()
    assert ["rules" in a["policy"] for a in plain["value"]] == [False, False]
    listed = client.get(f"/v1.0/policies/roleManagementPolicies?{POLICY_FILTER}").json()
    assert [("rules" in p, p["id"]) for p in listed["value"]] == [
        (False, "DirectoryRole_t_p9"),
        (False, "DirectoryRole_t_p8"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?$filter=scopeId eq '/'",
        "?$filter=scopeType eq 'DirectoryRole'",
        "?$filter=scopeId ne '/' and scopeType eq 'x'",
    ],
)
@pytest.mark.parametrize("collection", ["roleManagementPolicies", "roleManagementPolicyAssignments"])
def test_policy_collections_require_the_scope_filter(serve, collection: str, query: str) -> None:
    emulator = serve(POLICY_FILES)
    response = GraphClient(emulator).get(f"/v1.0/policies/{collection}{query}")
    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == "BadRequest"
    assert "scopeId eq '...' and scopeType eq '...'" in error["message"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/v1.0/users?$expand=manager", "BadRequest"),
        (
            f"/v1.0/policies/roleManagementPolicyAssignments?{POLICY_FILTER}&$expand=policy($expand=effectiveRules)",
            "BadRequest",
        ),
        ("/v1.0/users?$filter=startswith(displayName,'A')", "BadRequest"),
        ("/v1.0/users?$count=true", "Request_UnsupportedQuery"),
        ('/v1.0/users?$search="displayName:a"', "Request_UnsupportedQuery"),
        ("/v1.0/users?$skip=5", "Request_UnsupportedQuery"),
        ("/v1.0/users/..%2F..%2Fetc", "BadRequest"),
    ],
)
def test_unsupported_queries_are_400_in_graph_shape(serve, url: str, code: str) -> None:
    emulator = serve({"v1.0/users": users(3)})
    response = GraphClient(emulator).get(url)
    assert response.status_code == 400
    assert graph_error(response)["code"] == code


def test_access_reviews_page_with_top_and_skip(serve) -> None:
    definitions = [{"id": f"d{i}"} for i in range(9)]
    emulator = serve({"v1.0/identityGovernance/accessReviews/definitions": definitions})
    body = GraphClient(emulator).get("/v1.0/identityGovernance/accessReviews/definitions?$top=3&$skip=4").json()
    assert [d["id"] for d in body["value"]] == ["d4", "d5", "d6"]


def test_beta_serves_its_own_files(serve) -> None:
    emulator = serve(
        {
            "beta/roleManagement/directory/roleDefinitions": [{"id": "r1", "isPrivileged": True}],
            "v1.0/roleManagement/directory/roleDefinitions": [{"id": "r1"}],
        }
    )
    client = GraphClient(emulator)
    assert client.get("/beta/roleManagement/directory/roleDefinitions").json()["value"] == [
        {"id": "r1", "isPrivileged": True}
    ]
    assert client.get("/v1.0/roleManagement/directory/roleDefinitions?$select=id").json()["value"] == [{"id": "r1"}]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer not-a-token", "IDX14100: JWT is not well formed, there are no dots (.)."),
        ("Basic dXNlcjpwYXNz", "Access token is empty."),
    ],
)
def test_graph_requires_a_valid_bearer_token(serve, authorization: str | None, message: str) -> None:
    emulator = serve({"v1.0/users": users(3)})
    headers = {"Authorization": authorization} if authorization else {}
    response = http(emulator).get(f"{emulator.url}/v1.0/users", headers={**headers, "client-request-id": "abc"})
    assert response.status_code == 401
    error = graph_error(response)
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert error["innerError"]["client-request-id"] == "abc"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_permissions_are_enforced_when_granted_permissions_is_set(serve) -> None:
    emulator = serve(
        {"v1.0/users": users(3)},
        granted_permissions={"User.Read.All", "RoleAssignmentSchedule.Read.Directory", "AuditLog.Read.All"},
    )
    client = GraphClient(emulator)
    assert client.get("/v1.0/users").status_code == 200
    assert client.get("/v1.0/roleManagement/directory/roleAssignmentScheduleInstances").status_code == 200
    denied = client.get("/v1.0/roleManagement/directory/roleAssignmentScheduleRequests")
    assert denied.status_code == 403
    assert graph_error(denied)["code"] == "PermissionScopeNotGranted"
    # directoryAudits needs Directory.Read.All as well as AuditLog.Read.All.
    audits = client.get("/v1.0/auditLogs/directoryAudits")
    assert (audits.status_code, graph_error(audits)["code"]) == (403, "Authorization_RequestDenied")


def test_an_equality_filter_matches_the_text_however_the_file_spells_it(serve) -> None:
    lines = [
        '{"id": "a1", "loggedByService": "PIM"}',
        '{"id": "a2", "loggedByService": "\\u0050IM"}',
        '{"id": "a3", "loggedByService": "Core Directory", "note": "PIM"}',
        '{"id": "a4", "loggedByService": "Caf\\u00e9"}',
        '{"id": "a5", "loggedByService": "Café"}',
    ]
    emulator = serve({"v1.0/auditLogs/directoryAudits": "[\n" + ",\n".join(lines) + "\n]\n"})
    client = GraphClient(emulator)
    pim = client.get("/v1.0/auditLogs/directoryAudits?$filter=loggedByService eq 'PIM'").json()
    assert [a["id"] for a in pim["value"]] == ["a1", "a2"]
    cafe = client.get("/v1.0/auditLogs/directoryAudits?$filter=loggedByService eq 'Café'").json()
    assert [a["id"] for a in cafe["value"]] == ["a4", "a5"]
    either = client.get("/v1.0/auditLogs/directoryAudits?$filter=loggedByService eq 'PIM' or loggedByService eq 'Café'")
    assert [a["id"] for a in either.json()["value"]] == ["a1", "a2", "a4", "a5"]


def test_graph_sign_ins_are_the_log_analytics_sign_ins_in_graph_shape(serve) -> None:
    row = {
        "TimeGenerated": "2026-10-01T08:00:00.000Z",
        "CreatedDateTime": "2026-10-01T08:00:00.000Z",
        "Id": "s1",
        "UserPrincipalName": "ann@contoso.example",
        "UserId": "u1",
        "UserDisplayName": "Ann",
        "AppDisplayName": "Azure Portal",
        "IPAddress": "198.51.100.7",
        "Location": "NL",
        "ResultType": "53003",
        "ResultDescription": "Blocked by Conditional Access",
        "AuthenticationRequirement": "multiFactorAuthentication",
        "ConditionalAccessStatus": "failure",
        "IsInteractive": True,
        "DeviceDetail": {"deviceId": "", "operatingSystem": "MacOs", "browser": "Safari 17.6"},
        "Type": "SigninLogs",
    }
    client = GraphClient(serve({"loganalytics/SigninLogs": [row]}))
    body = client.get("/v1.0/auditLogs/signIns?$filter=userId eq 'u1'").json()
    assert body["value"] == [
        {
            "id": "s1",
            "createdDateTime": "2026-10-01T08:00:00.000Z",
            "userDisplayName": "Ann",
            "userPrincipalName": "ann@contoso.example",
            "userId": "u1",
            "appDisplayName": "Azure Portal",
            "ipAddress": "198.51.100.7",
            "isInteractive": True,
            "conditionalAccessStatus": "failure",
            "authenticationRequirement": "multiFactorAuthentication",
            "status": {"errorCode": 53003, "failureReason": "Blocked by Conditional Access"},
            "location": {"countryOrRegion": "NL"},
            "deviceDetail": {"deviceId": "", "operatingSystem": "MacOs", "browser": "Safari 17.6"},
        }
    ]
    assert client.get("/v1.0/auditLogs/signIns?$filter=userId eq 'nobody'").json()["value"] == []
