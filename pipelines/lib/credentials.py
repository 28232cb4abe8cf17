"""The credential each tenant's configuration chooses, built with azure-identity's own classes.

``secret`` and ``certificate`` are the app registration's; ``workload_identity`` exchanges a federated token
(Kubernetes, GitHub Actions) for the app's token; ``managed_identity`` asks the Azure host's identity endpoint
(IMDS, App Service, Arc: azure-identity finds it from the environment); ``azure_cli`` uses ``az login``'s account;
``default`` is ``DefaultAzureCredential``'s chain (environment, workload identity, managed identity, the CLI...).
Graph and Azure Resource Manager read through the async classes, Log Analytics through the sync ones: both are
built here, so the two never disagree on who asks.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.credentials_async import AsyncTokenCredential

from pipelines.lib.config import TenantSettings


def async_credential(settings: TenantSettings) -> AsyncTokenCredential:
    from azure.identity import aio

    return _build(aio, settings)


def sync_credential(settings: TenantSettings) -> TokenCredential:
    import azure.identity

    return _build(azure.identity, settings)


def _build(identity: ModuleType, settings: TenantSettings) -> Any:
    options: dict[str, Any] = {}
    if settings.ca_bundle is not None:
        options["connection_verify"] = str(settings.ca_bundle)
    if settings.credential == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=settings.client_id, **options)
    if settings.credential == "azure_cli":
        return identity.AzureCliCredential(tenant_id=settings.tenant_id)
    options["authority"] = settings.authority_url
    if settings.is_custom_authority:
        options["disable_instance_discovery"] = True
    if settings.credential == "default":
        return identity.DefaultAzureCredential(
            managed_identity_client_id=settings.client_id,
            workload_identity_client_id=settings.client_id,
            workload_identity_tenant_id=settings.tenant_id,
            # A scheduled pipeline has no one to sign in: no browser, no cached user of an IDE.
            exclude_interactive_browser_credential=True,
            exclude_visual_studio_code_credential=True,
            exclude_shared_token_cache_credential=True,
            **options,
        )
    if settings.credential == "workload_identity":
        return identity.WorkloadIdentityCredential(
            tenant_id=settings.tenant_id,
            client_id=settings.client_id,
            token_file_path=str(settings.federated_token_file),
            **options,
        )
    if settings.credential == "certificate":
        return identity.CertificateCredential(
            settings.tenant_id, settings.client_id, certificate_path=str(settings.certificate_path), **options
        )
    return identity.ClientSecretCredential(settings.tenant_id, settings.client_id, settings.client_secret, **options)
