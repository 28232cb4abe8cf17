"""The credential and the national cloud each tenant chooses in the configuration, and the mistakes named."""

from pathlib import Path

import pytest
from azure.identity import aio

from pipelines.lib.clouds import CLOUDS
from pipelines.lib.config import ConfigError, load_config
from pipelines.lib.credentials import async_credential, sync_credential

TENANT = "10000000-0000-0000-0000-000000000001"
CLIENT = "c0000000-0000-0000-0000-000000000001"


def tenant_file(tmp_path: Path, extra: str, *, client: bool = True) -> Path:
    path = tmp_path / "pimlens.yaml"
    client_line = f"    client_id: {CLIENT}\n" if client else ""
    path.write_text(f"tenants:\n  - name: t\n    tenant_id: {TENANT}\n{client_line}{extra}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "client", "kind", "built"),
    [
        ("    client_secret_env: S\n", True, "secret", aio.ClientSecretCredential),
        ("    credential: managed_identity\n", False, "managed_identity", aio.ManagedIdentityCredential),
        ("    credential: managed_identity\n", True, "managed_identity", aio.ManagedIdentityCredential),
        ("    credential: azure_cli\n", False, "azure_cli", aio.AzureCliCredential),
        ("    credential: default\n", False, "default", aio.DefaultAzureCredential),
        (
            "    credential: workload_identity\n    federated_token_file: token\n",
            True,
            "workload_identity",
            aio.WorkloadIdentityCredential,
        ),
    ],
)
def test_each_credential_is_built_from_the_configuration(tmp_path, extra, client, kind, built) -> None:
    (tmp_path / "token").write_text("a.b.c")
    (tenant,) = load_config(tenant_file(tmp_path, extra, client=client), {"S": "s3cret"}).tenants
    assert tenant.credential == kind
    assert tenant.client_id == (CLIENT if client else None)
    assert isinstance(async_credential(tenant), built)
    assert type(sync_credential(tenant)).__name__ == built.__name__


def test_the_workload_token_file_defaults_to_the_platform_variable(tmp_path) -> None:
    (tmp_path / "projected").write_text("a.b.c")
    env = {"AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "projected")}
    (tenant,) = load_config(tenant_file(tmp_path, "    credential: workload_identity\n"), env).tenants
    assert tenant.federated_token_file == tmp_path / "projected"


@pytest.mark.parametrize("name", ["usgov", "china"])
def test_a_national_cloud_sets_every_endpoint_and_audience(tmp_path, name) -> None:
    (tenant,) = load_config(tenant_file(tmp_path, f"    client_secret_env: S\n    cloud: {name}\n"), {"S": "x"}).tenants
    cloud = CLOUDS[name]
    assert (tenant.graph_url, tenant.authority_url, tenant.log_analytics_url, tenant.management_url) == (
        cloud.graph_url,
        cloud.authority_url,
        cloud.log_analytics_url,
        cloud.management_url,
    )
    assert not tenant.is_custom_authority  # MSAL knows each national cloud's authority
    assert tenant.cloud.scope(tenant.cloud.graph_url) == f"{cloud.graph_url}/.default"


def test_us_government_endpoints_are_microsofts() -> None:
    usgov = CLOUDS["usgov"]
    assert (usgov.graph_url, usgov.authority_url, usgov.log_analytics_url) == (
        "https://graph.microsoft.us",
        "https://login.microsoftonline.us",
        "https://api.loganalytics.us",
    )


def test_one_endpoint_can_be_moved_within_a_cloud(tmp_path) -> None:
    extra = "    client_secret_env: S\n    cloud: china\n    graph_url: https://127.0.0.1:9\n"
    (tenant,) = load_config(tenant_file(tmp_path, extra), {"S": "x"}).tenants
    assert tenant.graph_url == "https://127.0.0.1:9"
    assert tenant.authority_url == CLOUDS["china"].authority_url
    # Tokens are still asked for the cloud's Graph, whatever address answers.
    assert tenant.cloud.scope(tenant.cloud.graph_url) == "https://microsoftgraph.chinacloudapi.cn/.default"


@pytest.mark.parametrize(
    ("extra", "client", "message"),
    [
        ("    credential: kerberos\n", True, "credential must be one of secret, certificate, managed_identity"),
        ("    credential: secret\n", True, "credential secret needs client_secret_env"),
        ("    credential: managed_identity\n    client_secret_env: S\n", True, "client_secret_env is only read with"),
        ("    credential: workload_identity\n", True, "needs federated_token_file, or AZURE_FEDERATED_TOKEN_FILE"),
        ("    credential: workload_identity\n    federated_token_file: nowhere\n", True, "is not a file"),
        ("    credential: workload_identity\n    federated_token_file: token\n", False, "client_id is required"),
        ("    credential: azure_cli\n", True, "client_id is not used by azure_cli"),
        ("    client_secret_env: S\n    cloud: mars\n", True, "cloud must be one of ['china', 'public', 'usgov']"),
        ("    federated_token_file: token\n    client_secret_env: S\n", True, "only read with credential workload"),
    ],
)
def test_credential_mistakes_name_what_to_fix(tmp_path, extra, client, message) -> None:
    (tmp_path / "token").write_text("a.b.c")
    with pytest.raises(ConfigError) as raised:
        load_config(tenant_file(tmp_path, extra, client=client), {"S": "x"})
    assert message in str(raised.value)
