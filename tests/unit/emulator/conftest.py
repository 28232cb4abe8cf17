"""Tiny tenant directories and a running emulator for the emulator's tests."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.emulator import DEMO_CLIENT_ID, EmulatorOptions, RunningEmulator, start_emulator

TENANT_ID = "c9a5d7f1-0000-4000-8000-000000000001"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

TenantFiles = dict[str, Any]


def write_tenant(root: Path, files: TenantFiles) -> Path:
    """Write `{"v1.0/users": [...], "tenant": {...}}` as a tenant directory. Lists are written one record per
    line, as the demo generator writes them; str values are written as they are."""
    for name, content in files.items():
        path = root / (name if name.endswith(".json") else f"{name}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, list):
            content = "[\n" + ",\n".join(json.dumps(item) for item in content) + "\n]\n" if content else "[]\n"
        elif not isinstance(content, str):
            content = json.dumps(content)
        path.write_text(content, encoding="utf-8")
    return root


def users(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"u{i:04d}", "displayName": f"User {i}", "accountEnabled": i % 3 != 0, "age": i % 50}
        for i in range(count)
    ]


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One certificate state dir for the session: the CA is made once and reused, as in real use."""
    return tmp_path_factory.mktemp("emulator-state")


@pytest.fixture
def serve(tmp_path: Path, state_dir: Path) -> Iterator[Callable[..., RunningEmulator]]:
    """`serve(files, **options)` starts an emulator on a fresh tenant dir; all are stopped after the test."""
    running: list[RunningEmulator] = []

    def start(files: TenantFiles, **options: Any) -> RunningEmulator:
        tenant = write_tenant(tmp_path / f"tenant{len(running)}", {"tenant": {"tenantId": TENANT_ID}, **files})
        emulator = start_emulator(tenant, state_dir=state_dir, options=EmulatorOptions(**options))
        running.append(emulator)
        return emulator

    yield start
    for emulator in running:
        emulator.stop()


def token(emulator: RunningEmulator, scope: str = GRAPH_SCOPE) -> str:
    """A token straight from the token endpoint (the azure-identity flow has its own tests)."""
    response = http(emulator).post(
        f"{emulator.url}/{emulator.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "pimlens-demo-secret",
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


_clients: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def http(emulator: RunningEmulator) -> httpx.Client:
    """An httpx client that trusts the emulator's CA (closed after the test)."""
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(emulator.ca_file)), timeout=10)
    _clients.append(client)
    return client


class GraphClient:
    """A bare client for tests: a bearer token and GETs of emulator-relative or absolute URLs."""

    def __init__(self, emulator: RunningEmulator):
        self.emulator = emulator
        self.client = http(emulator)
        self.client.headers["Authorization"] = f"Bearer {token(emulator)}"

    def get(self, url: str) -> httpx.Response:
        return self.client.get(url if url.startswith("https://") else self.emulator.url + url)

    def all_pages(self, url: str) -> tuple[list[dict[str, Any]], int]:
        """Follow nextLink verbatim; return every record and the number of pages."""
        records: list[dict[str, Any]] = []
        pages = 0
        next_url: str | None = url
        while next_url:
            response = self.get(next_url)
            assert response.status_code == 200, response.text
            body = response.json()
            records.extend(body["value"])
            pages += 1
            next_url = body.get("@odata.nextLink")
        return records, pages


def graph_error(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of a Graph error, after checking the shape every Graph error has."""
    error = response.json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert response.headers["client-request-id"]
    return error
