"""Intune's and Exchange's RBAC providers as the emulator serves them: beta only, paged, each behind its own
permission (the directory ones do not reach them), as Graph documents."""

from .conftest import GraphClient, graph_error

INTUNE = "/beta/roleManagement/deviceManagement/roleAssignments"
EXCHANGE = "/beta/roleManagement/exchange/roleAssignments"
EXCHANGE_DEFINITIONS = "/beta/roleManagement/exchange/roleDefinitions"


def intune_assignments(count: int) -> list[dict]:
    return [
        {
            "id": f"a{i:03}",
            "roleDefinitionId": "r1",
            "principalIds": [f"g{i}"],
            "directoryScopeIds": ["/"],
            "appScopeIds": [],
        }
        for i in range(count)
    ]


def test_each_provider_needs_its_own_permission_and_pages(serve) -> None:
    files = {
        "beta/roleManagement/deviceManagement/roleAssignments": intune_assignments(250),
        "beta/roleManagement/exchange/roleAssignments": [
            {"id": "x1", "principalId": "/ServicePrincipals/sp1", "roleDefinitionId": "r2", "directoryScopeId": "/"}
        ],
    }
    directory_only = GraphClient(serve(files, granted_permissions={"RoleManagement.Read.Directory"}))
    for url in (INTUNE, EXCHANGE):
        denied = directory_only.get(url)
        assert (denied.status_code, graph_error(denied)["code"]) == (403, "Authorization_RequestDenied")

    granted = GraphClient(
        serve(files, granted_permissions={"DeviceManagementRBAC.Read.All", "RoleManagement.Read.Exchange"})
    )
    records, pages = granted.all_pages(INTUNE)
    assert sorted(r["id"] for r in records) == [f"a{i:03}" for i in range(250)] and pages == 3
    records, _ = granted.all_pages(EXCHANGE)
    assert [r["principalId"] for r in records] == ["/ServicePrincipals/sp1"]


def test_exchange_role_definitions_refuse_an_app_only_token_whatever_it_holds(serve) -> None:
    """Graph's "List roleDefinitions" supports no application permission for the Exchange Online provider (its role
    assignments do): every token the emulator issues is app-only, so it is refused there, granted all or not."""
    files = {
        "beta/roleManagement/exchange/roleDefinitions": [{"id": "r2", "displayName": "Mail Recipients"}],
        "beta/roleManagement/exchange/roleAssignments": [
            {"id": "x1", "principalId": "u1", "roleDefinitionId": "r2", "directoryScopeId": "/"}
        ],
        "beta/roleManagement/deviceManagement/roleDefinitions": [{"id": "r1", "displayName": "Help Desk Operator"}],
    }
    for granted in (None, {"RoleManagement.Read.Exchange", "RoleManagement.Read.All", "DeviceManagementRBAC.Read.All"}):
        client = GraphClient(serve(files, granted_permissions=granted))
        denied = client.get(EXCHANGE_DEFINITIONS)
        assert (denied.status_code, graph_error(denied)["code"]) == (403, "Authorization_RequestDenied")
        assert client.get(f"{EXCHANGE_DEFINITIONS}/r2").status_code == 403
        records, _ = client.all_pages(EXCHANGE)
        assert [r["id"] for r in records] == ["x1"]
        records, _ = client.all_pages("/beta/roleManagement/deviceManagement/roleDefinitions")
        assert [r["id"] for r in records] == ["r1"]
