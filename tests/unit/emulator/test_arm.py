"""The ARM routes: Microsoft.Authorization collections under arm/, ARM's token, paging and error shapes."""

from __future__ import annotations

from typing import Any

from azure.core import PipelineClient
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential

from pipelines.emulator import DEMO_CLIENT_ID, FaultPlan, RunningEmulator
from pipelines.emulator.arm import ARM_READ_PERMISSION

from .conftest import http, token

ARM_SCOPE = "https://management.azure.com/.default"
SUB = "dfa2a084-766f-4003-8ae1-c4aeb893a99f"
BASE = f"/subscriptions/{SUB}/providers/Microsoft.Authorization"
VERSION = "api-version=2022-04-01"


def assignments(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{BASE}/roleAssignments/a{i:04d}",
            "name": f"a{i:04d}",
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "scope": f"/subscriptions/{SUB}" if i % 5 else f"/subscriptions/{SUB}/resourceGroups/rg1",
                "principalId": f"p{i % 7}",
                "roleDefinitionId": f"{BASE}/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            },
        }
        for i in range(count)
    ]


def arm_tenant(count: int = 250) -> dict[str, Any]:
    return {
        f"arm{BASE}/roleAssignments": assignments(count),
        "arm/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments": [
            {"id": "mg-a1", "name": "mg-a1", "type": "Microsoft.Authorization/roleAssignments", "properties": {}}
        ],
    }


def arm_get(emulator: RunningEmulator, url: str, scope: str = ARM_SCOPE):
    client = http(emulator)
    return client.get(
        url if url.startswith("https://") else emulator.url + url,
        headers={"Authorization": f"Bearer {token(emulator, scope)}"},
    )


def all_pages(emulator: RunningEmulator, url: str) -> tuple[list[dict[str, Any]], int]:
    records, pages, next_url = [], 0, url
    while next_url:
        response = arm_get(emulator, next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "@odata.nextLink" not in body
        records += body["value"]
        pages += 1
        next_url = body.get("nextLink")
    return records, pages


def test_pages_with_next_link_and_counts_them(serve) -> None:
    emulator = serve(arm_tenant())
    records, pages = all_pages(emulator, f"{BASE}/roleAssignments?{VERSION}")
    assert [r["name"] for r in records] == [f"a{i:04d}" for i in range(250)]
    assert pages == 3
    stats = emulator.stats()
    assert stats["pages_served"] == {f"arm{BASE}/roleAssignments": 3}
    assert stats["rows_served"] == {f"arm{BASE}/roleAssignments": 250}


def test_filters_at_scope_and_by_principal(serve) -> None:
    emulator = serve(arm_tenant(40))
    at_scope, _ = all_pages(emulator, f"{BASE}/roleAssignments?{VERSION}&$filter=atScope()")
    assert len(at_scope) == 32  # every fifth is on a resource group below the subscription
    mine, _ = all_pages(emulator, f"{BASE}/roleAssignments?{VERSION}&$filter=principalId eq 'p3'")
    assert {r["properties"]["principalId"] for r in mine} == {"p3"} and len(mine) == 6
    both, _ = all_pages(emulator, f"{BASE}/roleAssignments?{VERSION}&$filter=atScope() and assignedTo('p3')")
    assert len(both) == len([r for r in mine if not r["properties"]["scope"].endswith("rg1")])
    bad = arm_get(emulator, f"{BASE}/roleAssignments?{VERSION}&$filter=startswith(name,'a')")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidFilter"


def test_segments_are_case_insensitive_and_management_groups_work(serve) -> None:
    emulator = serve(arm_tenant(3))
    records, _ = all_pages(
        emulator, f"/SUBSCRIPTIONS/{SUB}/providers/microsoft.authorization/RoleAssignments?{VERSION}"
    )
    assert len(records) == 3
    mg = "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments"
    records, _ = all_pages(emulator, f"{mg}?{VERSION}")
    assert [r["id"] for r in records] == ["mg-a1"]
    missing, _ = all_pages(
        emulator, f"/subscriptions/other/providers/Microsoft.Authorization/roleAssignments?{VERSION}"
    )
    assert missing == []


def test_api_version_is_required(serve) -> None:
    emulator = serve(arm_tenant(3))
    response = arm_get(emulator, f"{BASE}/roleAssignments")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"
    assert set(response.json()["error"]) == {"code", "message"}


def test_needs_an_arm_token(serve) -> None:
    emulator = serve(arm_tenant(3))
    graph_token = arm_get(emulator, f"{BASE}/roleAssignments?{VERSION}", scope="https://graph.microsoft.com/.default")
    assert graph_token.status_code == 401
    assert graph_token.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_missing_rbac_read_is_authorization_failed(serve) -> None:
    emulator = serve(arm_tenant(3), granted_permissions={"RoleManagement.Read.Directory"})
    response = arm_get(emulator, f"{BASE}/roleAssignments?{VERSION}")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "AuthorizationFailed" and "Microsoft.Authorization/roleAssignments/read" in error["message"]
    allowed = serve(arm_tenant(3), granted_permissions={ARM_READ_PERMISSION})
    assert arm_get(allowed, f"{BASE}/roleAssignments?{VERSION}").status_code == 200


def test_faults_apply_to_arm(serve) -> None:
    emulator = serve(arm_tenant(30), faults=FaultPlan(server_error_rate=1.0))
    response = arm_get(emulator, f"{BASE}/roleAssignments?{VERSION}")
    assert response.status_code in (500, 502, 503, 504)
    assert emulator.stats()["faults"] == {"server_error": 1}


def test_azure_core_pipeline_client_with_azure_identity_reads_a_page(serve) -> None:
    emulator = serve(arm_tenant(120))
    credential = ClientSecretCredential(
        emulator.tenant_id,
        DEMO_CLIENT_ID,
        "pimlens-demo-secret",
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    client = PipelineClient(
        base_url=emulator.url,
        policies=[RetryPolicy(), BearerTokenCredentialPolicy(credential, ARM_SCOPE)],
        transport=RequestsTransport(connection_verify=str(emulator.ca_file)),
    )
    try:
        with client:
            first = client.send_request(HttpRequest("GET", f"{emulator.url}{BASE}/roleAssignments?{VERSION}"))
            first.raise_for_status()
            body = first.json()
            second = client.send_request(HttpRequest("GET", body["nextLink"]))
            second.raise_for_status()
    finally:
        credential.close()
    assert len(body["value"]) == 100 and len(second.json()["value"]) == 20
    assert "nextLink" not in second.json()
    assert emulator.stats()["tokens_issued"] == 1
