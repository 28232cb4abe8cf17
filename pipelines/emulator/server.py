"""The HTTPS server: routes requests to the token endpoint, Graph and Log Analytics, with limits and faults.

Standard library only (`ThreadingHTTPServer` + `ssl`): one thread per keep-alive connection is plenty for a
loopback benchmark, and pages are serialised with orjson from collections parsed once.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import socketserver
import ssl
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from pipelines.emulator.arm import ARM_READ_PERMISSION, ArmError, ArmService, ArmTarget, resolve_target
from pipelines.emulator.auth import (
    ARM,
    GRAPH,
    LOG_ANALYTICS,
    AuthError,
    TokenIssuer,
    aad_error_body,
    openid_configuration,
)
from pipelines.emulator.certs import ensure_certificates
from pipelines.emulator.faults import FaultInjector, FaultPlan, retry_after
from pipelines.emulator.federation import DEFAULT_SUBJECT, FederatedIssuer
from pipelines.emulator.graph import GraphService
from pipelines.emulator.loganalytics import ROW_LIMIT, LogAnalytics, QueryError, error_body
from pipelines.emulator.odata import ODataError, QueryOptions, parse_query
from pipelines.emulator.paths import UnsafePathError, split_segments
from pipelines.emulator.permissions import denial_message, missing_permission, refuses_app_only
from pipelines.emulator.stats import Stats
from pipelines.emulator.store import TenantFormatError, TenantStore
from pipelines.emulator.throttle import Throttler, request_cost, throttle_family, whole_seconds

log = logging.getLogger(__name__)

GRAPH_VERSIONS = ("v1.0", "beta")
GRAPH_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)
# Graph's 401 challenge. It carries no `claims=`, so kiota's adapter does not retry with a CAE claims challenge.
GRAPH_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
JSON = "application/json; charset=utf-8"
# The demo application's client id: a GUID, as Entra gives every application (pimlens' configuration checks it).
DEMO_CLIENT_ID = "5f0e6d1c-3b2a-4c8e-9d7f-1a2b3c4d5e6f"
# The client id of the managed identity the emulator's "host" has (its identity endpoint: MANAGED_IDENTITY_PATH).
DEMO_MANAGED_IDENTITY_ID = "7a1c2e3d-4b5f-4a6e-8c7d-9e0f1a2b3c4d"
# Where App Service's identity endpoint would be; a process finds it through IDENTITY_ENDPOINT and IDENTITY_HEADER.
MANAGED_IDENTITY_PATH = "/msi/token"
FEDERATION_PATH = "/federation"
# What EmulatorOptions.granted_permissions must hold for the workspace to answer (the role pimlens' README names).
LOG_ANALYTICS_READ_PERMISSION = "Log Analytics Reader on the workspace"
INVALID = "The request had some invalid properties"  # the query API's top-level message for a 400
MAX_REQUEST_BODY = 1 << 20
IDLE_TIMEOUT_S = 120  # a keep-alive connection with no request for this long is closed
HANDSHAKE_TIMEOUT_S = 10
SHUTDOWN_POLL_S = 0.05  # how often serve_forever looks for stop(): the longest stop() waits


@dataclass(frozen=True)
class EmulatorOptions:
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = "pimlens-demo-secret"
    enforce_rate_limits: bool = True
    # Multiplies every Retry-After and throttling window: 0.1 runs the R-1 storm ten times faster.
    retry_after_scale: float = 1.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    granted_permissions: set[str] | None = None  # None: the app holds every permission
    token_lifetime_s: int = 3599
    loganalytics_row_limit: int = ROW_LIMIT
    # Read and check every file at start-up, so a broken one fails fast; False defers each to its first use.
    validate_on_start: bool = True
    # The secret App Service puts in IDENTITY_HEADER: the identity endpoint answers only requests that carry it.
    identity_header: str = "pimlens-demo-identity-header"
    # The subject the app's federated identity credential trusts (workload identity federation).
    federated_subject: str = DEFAULT_SUBJECT

    def __post_init__(self) -> None:
        if self.retry_after_scale <= 0:
            raise ValueError(f"retry_after_scale must be positive, got {self.retry_after_scale}")


class _Drop(Exception):
    """Raised to close the connection without any response (the connection-reset fault)."""


class _BodyError(Exception):
    """A request body the emulator will not read; answered with `status`, and the connection closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _App:
    """Everything a request can touch; shared by all handler threads."""

    def __init__(self, store: TenantStore, options: EmulatorOptions, url: str, port: int, user_count: int):
        self.store = store
        self.options = options
        self.url = url
        self.tenant_id = store.tenant_id()
        info = store.tenant_info()
        self.tenant_names = {self.tenant_id.lower()} | (
            {info["defaultDomain"].lower()} if isinstance(info.get("defaultDomain"), str) else set()
        )
        self.graph = GraphService(store)
        self.loganalytics = LogAnalytics(store, row_limit=options.loganalytics_row_limit)
        self.arm = ArmService(store)
        self.issuer = TokenIssuer(
            client_id=options.client_id,
            client_secret=options.client_secret,
            tenant_id=self.tenant_id,
            lifetime_s=options.token_lifetime_s,
            own_urls=(url, f"https://localhost:{port}"),
            federation=FederatedIssuer(issuer=url + FEDERATION_PATH, subject=options.federated_subject),
            managed_identity_client_id=DEMO_MANAGED_IDENTITY_ID,
        )
        self.throttler = Throttler(user_count=user_count, time_scale=options.retry_after_scale)
        self.injector = FaultInjector(options.faults)
        self.stats = Stats()


class _Exchange:
    """One request and its response: ids, headers and the send helpers every route uses."""

    def __init__(self, handler: _Handler, app: _App):
        self.handler = handler
        self.app = app
        split = urlsplit(handler.path)
        self.path = split.path
        self.query = split.query
        self.request_id = str(uuid.uuid4())
        self.client_request_id = handler.headers.get("client-request-id") or self.request_id
        host = handler.headers.get("Host")
        self.base_url = f"https://{host}" if host else app.url
        self.sent = False
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            if "chunked" in (self.handler.headers.get("Transfer-Encoding") or "").lower():
                raise _BodyError(411, "Chunked request bodies are not supported: send Content-Length.")
            length = int(self.handler.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BODY:
                raise _BodyError(413, f"The request body is over {MAX_REQUEST_BODY} bytes.")
            self._body = self.handler.rfile.read(length)
        return self._body

    def drain(self) -> None:
        """Read a body no route looked at (e.g. refused before parsing), so the next request on this
        keep-alive connection starts at its own first byte."""
        if self._body is None and not self.handler.close_connection:
            try:
                self.body()
            except _BodyError:
                self.handler.close_connection = True

    def send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
    ) -> None:
        """Send a whole response. `declared_length` > len(body) sends a short body, then closes."""
        handler = self.handler
        self.sent = True
        self.app.stats.response(status)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        handler.send_header("request-id", self.request_id)
        handler.send_header("client-request-id", self.client_request_id)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if declared_length is not None:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(body)

    def json(self, status: int, payload: Any, **kwargs: Any) -> None:
        self.send(status, orjson.dumps(payload), **kwargs)

    def graph_error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        """Graph's error shape, with the ids a support case would quote."""
        inner = {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": self.request_id,
            "client-request-id": self.client_request_id,
        }
        self.json(
            status,
            {"error": {"code": code, "message": message, "innerError": inner}},
            content_type=GRAPH_CONTENT_TYPE,
            headers=headers,
        )


class _Router:
    def __init__(self, app: _App):
        self.app = app

    def handle(self, ex: _Exchange) -> None:
        app = self.app
        if ex.path.startswith("/_emulator/"):
            self._control(ex)
            return
        app.stats.request(ex.path)
        try:
            segments = split_segments(ex.path)
        except UnsafePathError as exc:
            ex.graph_error(400, "BadRequest", str(exc))
            return
        method = ex.handler.command
        if segments and segments[0] in GRAPH_VERSIONS:
            if method != "GET":
                ex.graph_error(405, "Request_BadRequest", "The emulator serves read-only Graph: use GET.")
                return
            self._graph(ex, segments[0], segments[1:])
        elif (target := resolve_target(segments)) is not None:
            self._arm(ex, target)
        elif len(segments) == 4 and segments[:2] == ["v1", "workspaces"] and segments[3] == "query":
            if method != "POST":
                ex.json(405, error_body("BadArgumentError", "Use POST with a JSON body."))
                return
            self._loganalytics(ex)
        elif len(segments) == 4 and segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            self._openid(ex, segments[0])
        elif len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            self._token(ex, segments[0])
        elif ex.path == MANAGED_IDENTITY_PATH and method == "GET":
            self._managed_identity(ex)
        else:
            ex.graph_error(404, "NotFound", f"Resource not found for the segment '{ex.path}'.")

    # -- control ---------------------------------------------------------------------------------------

    def _control(self, ex: _Exchange) -> None:
        app = self.app
        method = ex.handler.command
        if ex.path == "/_emulator/stats" and method == "GET":
            ex.json(200, app.stats.snapshot())
        elif ex.path == "/_emulator/faults" and method == "GET":
            ex.json(200, app.injector.plan.to_dict())
        elif ex.path == "/_emulator/federated-token" and method == "POST":
            ex.json(200, {"token": app.issuer.federation.mint()})
        elif ex.path == "/_emulator/faults" and method == "POST":
            try:
                plan = FaultPlan.from_dict(orjson.loads(ex.body()))
            except (ValueError, TypeError) as exc:
                ex.json(400, {"error": {"code": "BadRequest", "message": str(exc)}})
                return
            app.injector = FaultInjector(plan)
            ex.json(200, plan.to_dict())
        else:
            ex.json(404, {"error": {"code": "NotFound", "message": f"no control endpoint {method} {ex.path}"}})

    # -- auth ------------------------------------------------------------------------------------------

    def _known_tenant(self, ex: _Exchange, tenant: str) -> bool:
        if tenant.lower() in self.app.tenant_names:
            return True
        err = AuthError(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have "
            "the correct tenant ID and are signing into the correct cloud.",
        )
        ex.json(err.status, aad_error_body(err))
        return False

    def _openid(self, ex: _Exchange, tenant: str) -> None:
        if self._known_tenant(ex, tenant):
            ex.json(200, openid_configuration(ex.base_url, tenant))

    def _token(self, ex: _Exchange, tenant: str) -> None:
        app = self.app
        if not self._known_tenant(ex, tenant):
            return
        form = dict(parse_qsl(ex.body().decode("utf-8", "replace"), keep_blank_values=True))
        plan = app.injector.plan
        if app.injector.hits("token_failure", plan.token_failure_rate, "token|" + form.get("client_id", "")):
            app.stats.fault("token_failure")
            err = AuthError(503, "temporarily_unavailable", 50196, "The server is temporarily unavailable.")
            ex.json(err.status, aad_error_body(err))
            return
        try:
            token = app.issuer.issue(form)
        except AuthError as err:
            ex.json(err.status, aad_error_body(err))
            return
        app.stats.token_issued()
        ex.json(200, token, headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def _managed_identity(self, ex: _Exchange) -> None:
        app = self.app
        header = ex.handler.headers.get("X-IDENTITY-HEADER") or ""
        if not secrets.compare_digest(header, app.options.identity_header):
            ex.json(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or wrong."})
            return
        try:
            token = app.issuer.issue_managed_identity(dict(parse_qsl(ex.query)))
        except AuthError as err:
            ex.json(err.status, {"statusCode": err.status, "message": err.description})
            return
        app.stats.token_issued()
        ex.json(200, token)

    # -- faults shared by Graph and Log Analytics ------------------------------------------------------

    def _latency(self) -> None:
        plan = self.app.injector.plan
        if plan.latency_ms > 0:
            self.app.stats.fault("latency")
            time.sleep(plan.latency_ms / 1000)

    def _before(self, ex: _Exchange, app_id: str, scope: str, request_key: str, *, graph: bool) -> bool:
        """Connection reset, 429 storm and 5xx. Returns False when a fault answered the request."""
        app = self.app
        injector = app.injector
        plan = injector.plan
        if injector.hits("reset", plan.reset_rate, request_key):
            app.stats.fault("connection_reset")
            raise _Drop
        if injector.hits("throttle", plan.throttle_rate, request_key):
            style = injector.choose("retry_after_style", request_key, plan.retry_after_styles)
            announced = retry_after(style, scale=app.options.retry_after_scale, now=time.time())
            app.stats.fault("throttle")
            app.stats.throttled("fault", app_id, scope, announced.window)
            headers = {} if announced.header is None else {"Retry-After": announced.header}
            self._too_many(ex, headers, graph=graph)
            return False
        if injector.hits("server_error", plan.server_error_rate, request_key):
            status = injector.choose("server_error_status", request_key, plan.server_error_statuses)
            app.stats.fault("server_error")
            code = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
            message = "The service is temporarily unavailable. Please retry."
            if graph:
                ex.graph_error(status, code.get(status, "UnknownError"), message)
            else:
                ex.json(status, error_body(code.get(status, "ServiceError"), message))
            return False
        return True

    def _too_many(self, ex: _Exchange, headers: dict[str, str], *, graph: bool) -> None:
        message = "Too many requests. Wait for the time in the Retry-After header, then retry."
        if graph:
            ex.graph_error(429, "TooManyRequests", message, headers)
        else:
            ex.json(429, error_body("ThrottledError", message), headers=headers)

    def _send_page(
        self,
        ex: _Exchange,
        payload: Any,
        request_key: str,
        *,
        collection: str,
        rows: int,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a 200 page, possibly cut short by a fault; only whole pages count as served."""
        app = self.app
        injector = app.injector
        plan = injector.plan
        body = orjson.dumps(payload)
        if injector.hits("truncate", plan.truncate_rate, request_key):
            app.stats.fault("truncated")
            ex.send(200, body[: len(body) // 2], content_type=content_type, headers=headers)
        elif injector.hits("incomplete_body", plan.incomplete_body_rate, request_key):
            app.stats.fault("incomplete_body")
            ex.send(200, body[: len(body) // 2], content_type=content_type, headers=headers, declared_length=len(body))
        else:
            # Counted before sending: a client that reads stats right after the last page must see it.
            app.stats.page(collection, rows)
            ex.send(200, body, content_type=content_type, headers=headers)

    # -- Graph -----------------------------------------------------------------------------------------

    def _graph(self, ex: _Exchange, version: str, path: list[str]) -> None:
        app = self.app
        self._latency()
        if not path:
            ex.graph_error(404, "NotFound", "The emulator serves collections, not the service root.")
            return
        token, why = app.issuer.check(ex.handler.headers.get("Authorization"), GRAPH)
        if token is None:
            ex.graph_error(401, "InvalidAuthenticationToken", why, {"WWW-Authenticate": GRAPH_CHALLENGE})
            return
        if refuses_app_only(path):
            ex.graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            return
        if app.options.granted_permissions is not None:
            rule = missing_permission(path, app.options.granted_permissions)
            if rule is not None:
                code, message = denial_message(rule)
                ex.graph_error(403, code, message)
                return
        collection = f"{version}/{'/'.join(path)}"
        family = throttle_family(path)
        fault_scope = "fault:" + collection
        app.stats.check_window(token.app_id, (fault_scope, *((family,) if family else ())), ex.path)
        try:
            options = parse_query(ex.query, dollar_optional=version == "v1.0")
        except ODataError as exc:
            ex.graph_error(400, exc.code, exc.message)
            return

        headers = self._rate_limit(ex, token.app_id, path, options) if app.options.enforce_rate_limits else {}
        if headers is None:
            return
        request_key = f"GET {ex.handler.path}"
        if not self._before(ex, token.app_id, fault_scope, request_key, graph=True):
            return
        if options.skiptoken is not None and app.injector.expire_this_follow(collection):
            app.stats.fault("expired_page_token")
            ex.graph_error(
                400,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            )
            return
        if len(path) == 3 and path[0] == "users" and path[2] == "mailboxSettings":
            self._mailbox_settings(ex, version, path[1], request_key, headers)
            return

        def inject_empty() -> bool:
            hit = app.injector.hits("empty_page", app.injector.plan.empty_page_rate, request_key)
            if hit:
                app.stats.fault("empty_page")
            return hit

        try:
            page = app.graph.page(version, path, options, ex.base_url, inject_empty=inject_empty)
        except ODataError as exc:
            ex.graph_error(400, exc.code, exc.message)
            return
        self._send_page(
            ex,
            page.body,
            request_key,
            collection=page.collection,
            rows=page.rows,
            content_type=GRAPH_CONTENT_TYPE,
            headers=headers,
        )

    def _mailbox_settings(
        self, ex: _Exchange, version: str, user_id: str, request_key: str, headers: dict[str, str]
    ) -> None:
        """`users/{id}/mailboxSettings`: one object, not a page; Graph's 404s for a missing user or mailbox."""
        answer = self.app.graph.mailbox_settings(version, user_id, ex.base_url)
        if isinstance(answer, ODataError):
            ex.graph_error(404, answer.code, answer.message)
            return
        collection = f"{version}/users/mailboxSettings"
        self._send_page(
            ex, answer, request_key, collection=collection, rows=1, content_type=GRAPH_CONTENT_TYPE, headers=headers
        )

    def _rate_limit(self, ex: _Exchange, app_id: str, path: list[str], options: QueryOptions) -> dict[str, str] | None:
        """Apply the documented limits: None when a 429 was sent, else the headers for the 200."""
        app = self.app
        cost = request_cost(path, has_select=bool(options.select), has_expand=bool(options.expand), top=options.top)
        verdict = app.throttler.admit(app_id, path, cost=cost)
        if verdict is None:
            return {}
        family = verdict.family
        if verdict.retry_after is not None:
            wait = whole_seconds(verdict.retry_after)
            app.stats.throttled("rate_limit", app_id, family, wait)
            headers = {
                "Retry-After": str(wait),
                "x-ms-throttle-scope": f"Tenant_Application/Read/{app_id}/{app.tenant_id}",
            }
            if family == "identity":
                headers["x-ms-throttle-information"] = "ResourceUnitLimitExceeded"
            self._too_many(ex, headers, graph=True)
            return None
        if family != "identity":
            return {}
        # The resource-unit headers Graph sends so that a client can slow down before it is throttled.
        headers = {"x-ms-resource-unit": str(verdict.cost)}
        if verdict.used_fraction >= 0.8:
            headers["x-ms-throttle-limit-percentage"] = f"{verdict.used_fraction:.1f}"
        return headers

    # -- Azure Resource Manager ------------------------------------------------------------------------

    def _arm(self, ex: _Exchange, target: ArmTarget) -> None:
        app = self.app
        self._latency()
        if ex.handler.command != "GET":
            ex.json(405, ArmError(405, "MethodNotAllowed", "The emulator serves read-only ARM: use GET.").body())
            return
        token, why = app.issuer.check(ex.handler.headers.get("Authorization"), ARM)
        if token is None:
            challenge = 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"'
            ex.json(
                401, ArmError(401, "InvalidAuthenticationToken", why).body(), headers={"WWW-Authenticate": challenge}
            )
            return
        query = parse_qsl(ex.query, keep_blank_values=True)
        if not dict(query).get("api-version"):
            message = "The api-version query parameter (?api-version=) is required for all requests."
            ex.json(400, ArmError(400, "MissingApiVersionParameter", message).body())
            return
        granted = app.options.granted_permissions
        if granted is not None and ARM_READ_PERMISSION not in granted:
            message = (
                f"The client '{token.app_id}' with object id '{token.app_id}' does not have authorization to perform "
                f"action 'Microsoft.Authorization/{target.collection}/read' over scope '{target.scope}' or the "
                "scope is invalid. If access was recently granted, please refresh your credentials."
            )
            ex.json(403, ArmError(403, "AuthorizationFailed", message).body())
            return
        fault_scope = "fault:" + target.key
        app.stats.check_window(token.app_id, (fault_scope,), ex.path)
        request_key = f"GET {ex.handler.path}"
        if not self._before(ex, token.app_id, fault_scope, request_key, graph=False):
            return

        def inject_empty() -> bool:
            hit = app.injector.hits("empty_page", app.injector.plan.empty_page_rate, request_key)
            if hit:
                app.stats.fault("empty_page")
            return hit

        try:
            body, rows = app.arm.page(target, query, ex.base_url, inject_empty=inject_empty)
        except ArmError as exc:
            ex.json(exc.status, exc.body())
            return
        self._send_page(ex, body, request_key, collection=target.key, rows=rows, content_type=JSON)

    # -- Log Analytics ---------------------------------------------------------------------------------

    def _loganalytics(self, ex: _Exchange) -> None:
        app = self.app
        self._latency()
        token, _ = app.issuer.check(ex.handler.headers.get("Authorization"), LOG_ANALYTICS)
        if token is None:
            ex.json(401, error_body("InvalidTokenError", "The provided authentication is not valid for this resource."))
            return
        granted = app.options.granted_permissions
        if granted is not None and LOG_ANALYTICS_READ_PERMISSION not in granted:
            message = "The provided credentials have insufficient access to perform the requested operation"
            ex.json(403, error_body("InsufficientAccessError", message))
            return
        scope = "fault:loganalytics"
        app.stats.check_window(token.app_id, (scope,), ex.path)
        raw = ex.body()
        request_key = f"POST {ex.path} {raw.decode('utf-8', 'replace')}"
        if not self._before(ex, token.app_id, scope, request_key, graph=False):
            return
        try:
            result, collection, rows = app.loganalytics.query(orjson.loads(raw))
        except orjson.JSONDecodeError:
            ex.json(400, error_body("BadArgumentError", INVALID, ("SyntaxError", "The body is not valid JSON.")))
            return
        except QueryError as exc:
            ex.json(400, error_body("BadArgumentError", INVALID, (exc.kind, exc.message)))
            return
        self._send_page(ex, result, request_key, collection=collection, rows=rows, content_type=JSON)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "pimlens-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def setup(self) -> None:
        # The TLS handshake runs here, in this connection's thread, so a slow client never stalls accept().
        self.request.settimeout(HANDSHAKE_TIMEOUT_S)
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        ex = _Exchange(self, self.server.app)
        try:
            self.server.router.handle(ex)
            ex.drain()
        except _Drop:
            self._reset()
        except _BodyError as exc:
            ex.graph_error(exc.status, "BadRequest", exc.message)
            self.close_connection = True
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except TenantFormatError as exc:  # only reachable with validate_on_start=False
            log.error("%s", exc)
            if not ex.sent:
                ex.graph_error(500, "InternalServerError", f"The tenant directory is broken: {exc}")
        except Exception:
            log.exception("emulator failed on %s %s", self.command, self.path)
            if not ex.sent:
                ex.graph_error(500, "InternalServerError", "The emulator failed; see its log.")
            self.close_connection = True

    def _reset(self) -> None:
        """Close with a TCP RST and no response: SO_LINGER 0 makes close() abort the connection."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    app: _App
    router: _Router

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._context = context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (a reverse DNS lookup); nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Headers and body go out in separate writes; without NODELAY, Nagle + the client's delayed ACK
        # stall every response by ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(tls)
        return tls, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop a connection or reject the handshake are routine here, not server errors.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class RunningEmulator:
    """A started emulator. Stop it with `stop()` or by leaving a `with` block."""

    def __init__(self, server: _Server, thread: threading.Thread, app: _App, ca_file: Path):
        self._server = server
        self._thread = thread
        self._app = app
        self.url = app.url
        self.ca_file = ca_file
        self.tenant_id = app.tenant_id
        self.tenant_dir = app.store.root

    def stats(self) -> dict[str, Any]:
        return self._app.stats.snapshot()

    @property
    def managed_identity_environment(self) -> dict[str, str]:
        """What App Service sets for a process with a managed identity, here pointing at the emulator."""
        return {
            "IDENTITY_ENDPOINT": self.url + MANAGED_IDENTITY_PATH,
            "IDENTITY_HEADER": self._app.options.identity_header,
        }

    def federated_token(self, **claims: Any) -> str:
        """A token of the federated identity provider, as a platform projects it into the workload's file."""
        return self._app.issuer.federation.mint(**claims)

    def reset_stats(self) -> None:
        self._app.stats.reset()

    @property
    def faults(self) -> FaultPlan:
        return self._app.injector.plan

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan; its draws and its expired-token count start afresh."""
        self._app.injector = FaultInjector(plan)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=10)
        self._app.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_emulator(
    tenant_dir: Path,
    *,
    state_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    options: EmulatorOptions | None = None,
) -> RunningEmulator:
    """Serve `tenant_dir` over HTTPS on host:port (0 = any free port) from a background thread.

    Raises TenantFormatError when a file of the tenant directory is not what docs/tenant-format.md says.
    """
    options = options or EmulatorOptions()
    store = TenantStore(Path(tenant_dir))
    try:
        if options.validate_on_start:
            store.validate()
        user_count = len(store.collection("v1.0/users"))  # sizes the resource-unit budget (S/M/L)
        certificate = ensure_certificates(Path(state_dir), hosts=(host,))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        server = _Server((host, port), context)
    except BaseException:
        store.close()  # unmap what was already indexed
        raise

    bound_port = server.server_address[1]
    shown_host = f"[{host}]" if ":" in host else host
    app = _App(store, options, f"https://{shown_host}:{bound_port}", bound_port, user_count)
    server.app = app
    server.router = _Router(app)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": SHUTDOWN_POLL_S},
        name=f"pimlens-emulator-{bound_port}",
        daemon=True,
    )
    thread.start()
    log.info("emulator serving %s at %s (tenant %s)", tenant_dir, app.url, app.tenant_id)
    return RunningEmulator(server, thread, app, certificate.ca_file)
