"""The credentials a deployment without a secret uses, through azure-identity's own classes, against the emulator:
a managed identity (App Service's identity endpoint, found from IDENTITY_ENDPOINT and IDENTITY_HEADER),
workload identity federation (a federated token exchanged at the token endpoint) and DefaultAzureCredential's
chain. Each is checked by `pimlens doctor`, which asks Graph and Azure Resource Manager through the async
credential and Log Analytics through the sync one."""

from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.emulator import EmulatorOptions
from pipelines.emulator.server import DEMO_MANAGED_IDENTITY_ID
from pipelines.lib.config import TenantSettings
from pipelines.lib.doctor import check_tenant

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
WORKSPACE = "00000000-0000-4000-8000-0000000000aa"
SUBSCRIPTION = "33333333-3333-4333-8333-333333333333"
# What DefaultAzureCredential's chain reads before the managed identity; none may come from the machine running
# the tests.
AZURE_VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME",
    "AZURE_TOKEN_CREDENTIALS",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IMDS_ENDPOINT",
    "IDENTITY_SERVER_THUMBPRINT",
)


@pytest.fixture
def emulator(serve_tenant, monkeypatch):
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return serve_tenant(TENANT, EmulatorOptions())


@pytest.fixture
def identity_host(emulator, monkeypatch):
    """The emulator, and this process on a host with a managed identity (App Service's variables)."""
    for name, value in emulator.managed_identity_environment.items():
        monkeypatch.setenv(name, value)
    return emulator


def settings(emulator, credential: str, client_id: str | None, **extra) -> TenantSettings:
    return TenantSettings(
        name="t",
        tenant_id=emulator.tenant_id,
        client_id=client_id,
        credential=credential,
        graph_url=emulator.url,
        authority_url=emulator.url,
        log_analytics_url=emulator.url,
        management_url=emulator.url,
        ca_bundle=emulator.ca_file,
        log_analytics_workspace_id=WORKSPACE,
        azure_subscriptions=(SUBSCRIPTION,),
        **extra,
    )


def healthy(findings) -> bool:
    statuses = {finding.collection: finding.status for finding in findings}
    # Graph, Log Analytics (sync credential) and ARM (async) each answered with the credential's token.
    assert statuses["users"] == statuses["la_signin_logs"] == statuses["arm_role_assignments"] == "ok"
    return all(finding.ok for finding in findings)


def test_a_managed_identity_reads_through_the_host_identity_endpoint(identity_host, monkeypatch) -> None:
    emulator = identity_host
    system_assigned = check_tenant(settings(emulator, "managed_identity", None))
    assert system_assigned[0].detail.startswith("a Graph token for managed identity (system-assigned)")
    assert healthy(system_assigned)
    assert healthy(check_tenant(settings(emulator, "managed_identity", DEMO_MANAGED_IDENTITY_ID)))

    # An identity the host does not have, and a request without App Service's header secret, get no token.
    other = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"
    (refused,) = check_tenant(settings(emulator, "managed_identity", other))
    assert (refused.collection, refused.ok) == ("credentials", False)
    assert f"could not get a token for managed identity {other}" in refused.detail
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-host-secret")
    (refused,) = check_tenant(settings(emulator, "managed_identity", None))
    assert (refused.collection, refused.ok) == ("credentials", False)


def test_workload_identity_exchanges_the_federated_token(emulator, tmp_path) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text(emulator.federated_token(), encoding="utf-8")
    app = EmulatorOptions().client_id
    federated = settings(emulator, "workload_identity", app, federated_token_file=token_file)
    findings = check_tenant(federated)
    assert findings[0].detail.startswith(f"a Graph token for application {app} (workload identity)")
    assert healthy(findings)

    # A token for a subject the app's federated credential does not trust is refused as Entra refuses it.
    token_file.write_text(emulator.federated_token(subject="system:serviceaccount:other:reader"), encoding="utf-8")
    (refused,) = check_tenant(federated)
    assert (refused.collection, refused.ok) == ("credentials", False)
    assert "AADSTS700213" in refused.detail and "system:serviceaccount:other:reader" in refused.detail
    token_file.write_text(emulator.federated_token(lifetime_s=-60), encoding="utf-8")
    (refused,) = check_tenant(federated)
    assert "AADSTS700024" in refused.detail


def test_default_azure_credential_finds_the_managed_identity_in_its_chain(identity_host) -> None:
    findings = check_tenant(settings(identity_host, "default", None))
    assert findings[0].detail.startswith("a Graph token for DefaultAzureCredential's chain")
    assert healthy(findings)


def test_a_chain_that_finds_no_identity_says_what_each_credential_answered(emulator) -> None:
    (refused,) = check_tenant(settings(emulator, "default", None))
    assert (refused.collection, refused.ok) == ("credentials", False)
    assert "DefaultAzureCredential failed to retrieve a token" in refused.detail
    assert "WorkloadIdentityCredential: " in refused.detail and "AzureCliCredential: " in refused.detail
    assert "\n" not in refused.detail


def test_a_secret_credential_still_works_beside_them(emulator) -> None:
    options = EmulatorOptions()
    secret = replace(settings(emulator, "secret", options.client_id), client_secret=options.client_secret)
    assert healthy(check_tenant(secret))
