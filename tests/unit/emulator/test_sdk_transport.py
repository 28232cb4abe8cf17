"""The msgraph-core / kiota transport, as pimlens' Graph client uses it, against the emulator."""

import asyncio
import ssl

import httpx
import orjson
from azure.identity.aio import ClientSecretCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from msgraph_core import GraphClientFactory

from pipelines.emulator import DEMO_CLIENT_ID, RunningEmulator

from .conftest import GRAPH_SCOPE, users


async def fetch_all(emulator: RunningEmulator, first_url: str) -> tuple[list[dict], list[str]]:
    credential = ClientSecretCredential(
        emulator.tenant_id,
        DEMO_CLIENT_ID,
        "pimlens-demo-secret",
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    http_client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(emulator.ca_file)))
    )
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=["127.0.0.1"])
    adapter = HttpxRequestAdapter(auth, http_client=http_client)
    records: list[dict] = []
    urls: list[str] = []
    url: str | None = first_url
    try:
        while url:
            info = RequestInformation(method=Method.GET)
            info.url = url
            info.headers.add("Accept", "application/json")
            raw = await adapter.send_primitive_async(info, "bytes", {})
            body = orjson.loads(raw)
            records.extend(body["value"])
            urls.append(url)
            url = body.get("@odata.nextLink")
    finally:
        await http_client.aclose()
        await credential.close()
    return records, urls


def test_kiota_adapter_pages_through_a_collection(serve) -> None:
    emulator = serve({"v1.0/users": users(25)})
    records, urls = asyncio.run(
        fetch_all(emulator, f"{emulator.url}/v1.0/users?$select=id,displayName&$filter=age ge 0&$top=10")
    )
    assert [r["id"] for r in records] == [f"u{i:04d}" for i in range(25)]
    assert records[3] == {"id": "u0003", "displayName": "User 3"}
    assert len(urls) == 3
    # The request path as the server saw it: kiota sends `$` literally (its ParametersNameDecodingHandler
    # even turns %24 back into $), and httpx percent-encodes the spaces and quotes in the filter.
    paths = set(emulator.stats()["requests_by_path"])
    assert "/v1.0/users" in paths
    assert emulator.stats()["rows_served"] == {"v1.0/users": 25}
