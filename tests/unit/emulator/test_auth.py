import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from pipelines.emulator import DEMO_CLIENT_ID, RunningEmulator

from .conftest import GRAPH_SCOPE, graph_error, http, users


def credential(emulator: RunningEmulator, client_id: str = DEMO_CLIENT_ID, secret: str = "pimlens-demo-secret"):
    return ClientSecretCredential(
        emulator.tenant_id,
        client_id,
        secret,
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )


def test_azure_identity_client_credentials_flow_gets_a_working_token(serve) -> None:
    emulator = serve({"v1.0/users": users(2)})
    access = credential(emulator).get_token(GRAPH_SCOPE)
    response = http(emulator).get(f"{emulator.url}/v1.0/users", headers={"Authorization": f"Bearer {access.token}"})
    assert [u["id"] for u in response.json()["value"]] == ["u0000", "u0001"]
    stats = emulator.stats()
    assert stats["tokens_issued"] == 1
    # What MSAL asked for, and nothing more: OIDC discovery then the token request.
    assert stats["requests_by_path"] == {
        f"/{emulator.tenant_id}/v2.0/.well-known/openid-configuration": 1,
        f"/{emulator.tenant_id}/oauth2/v2.0/token": 1,
        "/v1.0/users": 1,
    }


def test_wrong_secret_is_invalid_client(serve) -> None:
    emulator = serve({})
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential(emulator, secret="wrong").get_token(GRAPH_SCOPE)
    response = http(emulator).post(
        f"{emulator.url}/{emulator.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "x",
            "scope": GRAPH_SCOPE,
        },
    )
    assert response.status_code == 401
    body = response.json()
    assert (body["error"], body["error_codes"]) == ("invalid_client", [7000215])
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")


def test_wrong_client_id_is_unknown_application(serve) -> None:
    emulator = serve({})
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        credential(emulator, client_id="someone-else").get_token(GRAPH_SCOPE)


def test_wrong_tenant_and_unknown_scope_are_refused(serve) -> None:
    emulator = serve({})
    client = http(emulator)
    discovery = client.get(f"{emulator.url}/not-this-tenant/v2.0/.well-known/openid-configuration")
    assert (discovery.status_code, discovery.json()["error_codes"]) == (400, [90002])
    token = client.post(
        f"{emulator.url}/{emulator.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "pimlens-demo-secret",
            "scope": "https://vault.azure.net/.default",
        },
    )
    assert (token.status_code, token.json()["error"]) == (400, "invalid_resource")


def test_a_token_for_another_resource_is_refused_by_graph(serve) -> None:
    emulator = serve({"v1.0/users": users(1)})
    arm = credential(emulator).get_token("https://management.azure.com/.default")
    response = http(emulator).get(f"{emulator.url}/v1.0/users", headers={"Authorization": f"Bearer {arm.token}"})
    assert response.status_code == 401
    assert graph_error(response)["message"] == "Access token validation failure. Invalid audience."


def test_expired_tokens_are_refused(serve) -> None:
    emulator = serve({"v1.0/users": users(1)}, token_lifetime_s=0)
    access = credential(emulator).get_token(GRAPH_SCOPE)
    response = http(emulator).get(f"{emulator.url}/v1.0/users", headers={"Authorization": f"Bearer {access.token}"})
    assert graph_error(response)["message"] == "Lifetime validation failed, the token is expired."
