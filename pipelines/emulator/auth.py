"""The Entra ID token endpoint, just enough of it for MSAL's client-credentials flow (azure-identity).

MSAL asks for `GET /{tenant}/v2.0/.well-known/openid-configuration` (instance discovery is off, so nothing
else), then `POST {token_endpoint}` with grant_type=client_credentials and either the client secret or a
federated client assertion (workload identity federation, federation.py). A managed identity's tokens come from
the host's identity endpoint instead (`issue_managed_identity`, App Service's protocol). Tokens are opaque random
strings remembered with their audience, app and expiry: nothing here pretends to be a signed JWT.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.emulator.federation import JWT_BEARER, AssertionRejected, FederatedIssuer

GRAPH = "https://graph.microsoft.com"
LOG_ANALYTICS = "https://api.loganalytics.io"
ARM = "https://management.azure.com"
# Scopes that may ride along with a `.default` scope without naming a resource.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


@dataclass(frozen=True)
class Token:
    app_id: str
    audience: str
    expires_at: float  # time.time()


class AuthError(Exception):
    """An AAD error: `status`, OAuth `error` and an AADSTS code, rendered by `aad_error_body`."""

    def __init__(self, status: int, error: str, aadsts: int, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description


def aad_error_body(err: AuthError) -> dict[str, Any]:
    now = datetime.now(UTC)
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": err.error,
        "error_description": (
            f"AADSTS{err.aadsts}: {err.description}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [err.aadsts],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={err.aadsts}",
    }


def openid_configuration(base_url: str, tenant_id: str) -> dict[str, Any]:
    root = f"{base_url}/{tenant_id}"
    return {
        "issuer": f"{root}/v2.0",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base_url}/{tenant_id}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
    }


class TokenIssuer:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        tenant_id: str,
        lifetime_s: int,
        own_urls: tuple[str, ...],
        federation: FederatedIssuer,
        managed_identity_client_id: str,
    ):
        self.client_id = client_id
        self.federation = federation
        self.managed_identity_client_id = managed_identity_client_id
        self.client_secret = client_secret
        self.tenant_id = tenant_id
        self.lifetime_s = lifetime_s
        # LogsQueryClient derives its scope from its endpoint, so pointed at the emulator it asks for
        # `<emulator url>/.default`; that means Log Analytics here.
        self._audiences = {GRAPH: GRAPH, LOG_ANALYTICS: LOG_ANALYTICS, ARM: ARM}
        self._audiences.update(dict.fromkeys(own_urls, LOG_ANALYTICS))
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, form: dict[str, str]) -> dict[str, Any]:
        """Answer a token request (form fields) or raise AuthError."""
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            raise AuthError(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
            )
        client_id = form.get("client_id", "")
        if client_id != self.client_id:
            raise AuthError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{self.tenant_id}'.",
            )
        if form.get("client_assertion_type") == JWT_BEARER and "client_assertion" in form:
            try:
                self.federation.verify(form["client_assertion"], client_id)
            except AssertionRejected as rejected:
                raise AuthError(401, "invalid_client", rejected.aadsts, rejected.description) from None
        elif "client_secret" not in form:
            raise AuthError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        elif not secrets.compare_digest(form["client_secret"], self.client_secret):
            raise AuthError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        token = self._remember(client_id, self._audience(form.get("scope", "")))
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime_s,
            "ext_expires_in": self.lifetime_s,
            "access_token": token,
        }

    def issue_managed_identity(self, params: dict[str, str]) -> dict[str, Any]:
        """Answer the host's identity endpoint (App Service's protocol, api-version 2019-08-01): a token for
        ``resource`` as the managed identity. A user-assigned identity is asked for by its ``client_id``."""
        asked_for = params.get("client_id")
        if asked_for and asked_for != self.managed_identity_client_id:
            raise AuthError(
                400, "invalid_request", 0, f"No managed identity with client id {asked_for} is assigned to this host."
            )
        resource = params.get("resource", "")
        token = self._remember(self.managed_identity_client_id, self._audience(f"{resource.rstrip('/')}/.default"))
        return {
            "access_token": token,
            "expires_on": str(int(time.time()) + self.lifetime_s),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.managed_identity_client_id,
        }

    def _remember(self, app_id: str, audience: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            # Forget expired tokens now and then so a long benchmark does not grow the table without end.
            if len(self._tokens) > 10_000:
                self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
            self._tokens[token] = Token(app_id, audience, now + self.lifetime_s)
        return token

    def _audience(self, scope: str) -> str:
        resources = [s for s in scope.split() if s not in RESERVED_SCOPES]
        if len(resources) != 1 or not resources[0].endswith("/.default"):
            raise AuthError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope '{scope}' is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = resources[0].removesuffix("/.default").rstrip("/")
        audience = self._audiences.get(resource)
        if audience is None:
            raise AuthError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named {self.tenant_id}.",
            )
        return audience

    def check(self, authorization: str | None, audience: str) -> tuple[Token | None, str]:
        """The token behind an Authorization header, or None and why it was refused."""
        if not authorization or not authorization.startswith("Bearer "):
            return None, "Access token is empty."
        with self._lock:
            token = self._tokens.get(authorization[len("Bearer ") :].strip())
        if token is None:
            return None, "IDX14100: JWT is not well formed, there are no dots (.)."
        if token.expires_at <= time.time():
            return None, "Lifetime validation failed, the token is expired."
        if token.audience != audience:
            return None, "Access token validation failure. Invalid audience."
        return token, ""
