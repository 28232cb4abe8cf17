"""A failure to reach a service, told in one line with its likely cause instead of a traceback.

Each client library wraps the socket's error its own way (httpx, aiohttp through azure-core, urllib3 through
requests), often inside pimlens' own retry errors; the cause is found by walking the chain of exceptions and
reading what each says.
"""

from __future__ import annotations

import socket
import ssl

# (words that identify the failure in any library's message, what it is, its likely cause)
_CAUSES = (
    (
        (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo failed",
            "temporary failure in name",
            "no address associated",
            "name resolution",
            "failed to resolve",
        ),
        "DNS lookup failed",
        "a mistyped URL in the configuration, or this machine has no DNS for it (a proxy or an offline network)",
    ),
    (
        (
            "certificate_verify_failed",
            "certificate verify failed",
            "self signed certificate",
            "self-signed",
            "unable to get local issuer",
            "hostname mismatch",
            "wrong_version_number",
            "sslerror",
        ),
        "TLS handshake failed",
        "a TLS-inspecting proxy whose CA is not trusted (set ca_bundle to its CA file), or a URL that is not HTTPS",
    ),
    (
        ("connection refused", "errno 111", "connect call failed", "all connection attempts failed"),
        "connection refused",
        "nothing listens at that address: a mistyped URL or port, or a firewall that rejects it",
    ),
    (
        ("timed out", "timeout", "network is unreachable", "no route to host"),
        "no answer",
        "a firewall or proxy that drops the traffic, or no route to the internet from this machine",
    ),
)


def network_cause(error: BaseException) -> tuple[str, str] | None:
    """``(what failed, its likely cause)`` when ``error`` comes from not reaching a service, else None."""
    texts = []
    for link in _chain(error):
        if isinstance(link, socket.gaierror):
            return _CAUSES[0][1], _CAUSES[0][2]
        if isinstance(link, ssl.SSLError):
            return _CAUSES[1][1], _CAUSES[1][2]
        texts.append(f"{type(link).__name__}: {link}".lower())
    text = " ".join(texts)
    for words, what, cause in _CAUSES:
        if any(word in text for word in words):
            return what, cause
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or any(link is known for known in seen):
            continue
        seen.append(link)
        pending += [link.__cause__, link.__context__]
        pending += list(getattr(link, "exceptions", ()))
        inner = getattr(link, "inner_exception", None)
        if isinstance(inner, BaseException):
            pending.append(inner)
    return seen
