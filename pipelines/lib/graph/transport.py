"""Graph transport: azure-identity for tokens, msgraph-sdk's request adapter for the wire, raw bytes out.

Building kiota models runs at about 240 rows/s; asking the adapter for the native response keeps its auth,
redirect and telemetry middleware and hands back bytes that orjson parses at page speed. kiota's own retry is
switched off per request because pimlens' retry policy (``retry.py``) replaces it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import httpx
import orjson
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.httpx_request_adapter import HttpxRequestAdapter
from kiota_http.middleware.options import ResponseHandlerOption, RetryHandlerOption
from msgraph_core import GraphClientFactory

from pipelines.lib import progress
from pipelines.lib.config import TenantSettings
from pipelines.lib.credentials import async_credential
from pipelines.lib.graph.retry import RETRYABLE_STATUS, RetryBudget, parse_retry_after

log = logging.getLogger(__name__)

# Graph asks batch readers to mark themselves so interactive traffic is throttled last.
THROTTLE_PRIORITY = {"x-ms-throttle-priority": "Low"}


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str


class TransientError(Exception):
    """A failure worth retrying: throttling, a 5xx, a dropped connection or a body cut short."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class GraphHTTPError(Exception):
    """Graph answered with an error that retrying will not fix (400, 401, 403, 404...)."""

    def __init__(self, status: int, code: str, message: str, url: str) -> None:
        super().__init__(f"{status} {code}: {message} ({url})")
        self.status = status
        self.code = code
        self.message = message
        self.url = url


class RetryingTransport:
    """What every transport shares: counting requests, classifying answers, and waiting before a retry."""

    def __init__(self, budget: RetryBudget | None) -> None:
        self.budget = budget or RetryBudget()
        self.throttled_responses = 0
        self.requests_sent = 0

    def checked(self, status: int, headers: Mapping[str, str], content: bytes, url: str) -> Response:
        """The response if it succeeded; TransientError for what a retry can fix, GraphHTTPError otherwise."""
        if status in RETRYABLE_STATUS:
            if status == 429:
                self.throttled_responses += 1
            raise TransientError(
                f"HTTP {status} from {redact_query(url)}", parse_retry_after(headers.get("Retry-After"))
            )
        if status >= 400:
            code, message = graph_error(content)
            raise GraphHTTPError(status, code, message, redact_query(url))
        return Response(status, headers, content, url)

    async def wait_before_retry(self, attempt: int, error: TransientError) -> None:
        wait = self.budget.next_wait(attempt, error.retry_after, str(error))
        log.info("retrying in %.1fs after %s", wait, error)
        if (tracker := progress.current()) is not None:
            tracker.wait(wait, str(error))
        await asyncio.sleep(wait)


class GraphTransport(RetryingTransport):
    """One authenticated HTTP client for a run; ``get_once`` returns raw bytes, the caller owns the retry loop."""

    def __init__(self, settings: TenantSettings, *, budget: RetryBudget | None = None) -> None:
        super().__init__(budget)
        self.settings = settings
        self._credential = async_credential(settings)
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(settings.ca_bundle)) if settings.ca_bundle else True
        )
        self._http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(120.0, connect=15.0))
        )
        auth = AzureIdentityAuthenticationProvider(
            self._credential,
            scopes=[settings.cloud.scope(settings.cloud.graph_url)],
            allowed_hosts=[urlsplit(settings.graph_url).hostname or ""],
        )
        self._adapter = HttpxRequestAdapter(auth, http_client=self._http)

    async def __aenter__(self) -> GraphTransport:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()
        await self._credential.close()

    async def get_once(self, url: str) -> Response:
        """One GET through the SDK adapter; raises TransientError or GraphHTTPError on failure."""
        info = RequestInformation(method=Method.GET)
        info.url = url
        info.headers.add("Accept", "application/json")
        for name, value in THROTTLE_PRIORITY.items():
            info.headers.add(name, value)
        info.add_request_options([ResponseHandlerOption(NativeResponseHandler()), RetryHandlerOption(0, 0, False)])
        self.requests_sent += 1
        try:
            native: httpx.Response = await self._adapter.send_primitive_async(info, "bytes", {})
        except (httpx.TransportError, httpx.DecodingError) as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
        return self.checked(native.status_code, native.headers, native.content, url)


def graph_error(body: bytes) -> tuple[str, str]:
    """Graph's error code and message from an error body, tolerating bodies that are not Graph's shape."""
    try:
        error = orjson.loads(body).get("error", {})
    except (orjson.JSONDecodeError, AttributeError):
        return "UnreadableError", body[:200].decode("utf-8", "replace")
    if not isinstance(error, dict):
        return "UnreadableError", str(error)[:200]
    return str(error.get("code", "Unknown")), str(error.get("message", ""))


def redact_query(url: str) -> str:
    """The URL without its query: filters can hold user principal names, which stay out of logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
