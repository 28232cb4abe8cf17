"""Azure Resource Manager transport: azure-core's pipeline with an azure-identity bearer token, raw bytes out.

azure-core's own retry policy is left out of the pipeline: pimlens' retry policy (graph/retry.py) owns waits,
budgets and Retry-After for ARM exactly as it does for Graph.
"""

from __future__ import annotations

from types import TracebackType

from azure.core import AsyncPipelineClient
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, HeadersPolicy, UserAgentPolicy
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest

from pipelines.lib.config import TenantSettings
from pipelines.lib.credentials import async_credential
from pipelines.lib.graph.retry import RetryBudget
from pipelines.lib.graph.transport import Response, RetryingTransport, TransientError


class ArmTransport(RetryingTransport):
    def __init__(self, settings: TenantSettings, *, budget: RetryBudget | None = None) -> None:
        super().__init__(budget)
        self._credential = async_credential(settings)
        self._verify: str | bool = str(settings.ca_bundle) if settings.ca_bundle else True
        self._client = AsyncPipelineClient(
            base_url=settings.management_url,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy(user_agent="pimlens"),
                AsyncBearerTokenCredentialPolicy(self._credential, settings.cloud.scope(settings.cloud.management_url)),
            ],
            transport=AioHttpTransport(),
        )

    async def __aenter__(self) -> ArmTransport:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.close()
        await self._credential.close()

    async def get_once(self, url: str) -> Response:
        self.requests_sent += 1
        try:
            response = await self._client.send_request(HttpRequest("GET", url), connection_verify=self._verify)
            content = await response.read()
        except (ServiceRequestError, ServiceResponseError) as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
        return self.checked(response.status_code, response.headers, content, url)
