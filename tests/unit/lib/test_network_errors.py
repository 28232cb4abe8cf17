"""The likely cause of a failure to reach a service, found through the chain of wrapped exceptions."""

import socket
import ssl

import httpx
import pytest
from azure.core.exceptions import ServiceRequestError

from pipelines.lib.graph.retry import RetryBudgetExhausted
from pipelines.lib.network_errors import network_cause


def wrapped(inner: BaseException) -> BaseException:
    """As pimlens' retry loop leaves it: a budget error raised while handling a transport error caused by ``inner``."""
    transport = httpx.ConnectError("connection failed")
    transport.__cause__ = inner
    error = RetryBudgetExhausted("gave up after 2 retries of one request")
    error.__context__ = transport
    return error


@pytest.mark.parametrize(
    ("error", "what"),
    [
        (wrapped(socket.gaierror(-2, "Name or service not known")), "DNS lookup failed"),
        (wrapped(ssl.SSLCertVerificationError(1, "certificate verify failed")), "TLS handshake failed"),
        (wrapped(ConnectionRefusedError(111, "Connection refused")), "connection refused"),
        (
            ServiceRequestError("<urllib3.connection.HTTPSConnection>: Failed to resolve 'x.invalid'"),
            "DNS lookup failed",
        ),
        (RetryBudgetExhausted("gave up: ServiceRequestError: Connection timed out"), "no answer"),
    ],
)
def test_each_failure_is_named_with_a_likely_cause(error, what) -> None:
    cause = network_cause(error)
    assert cause is not None and cause[0] == what and cause[1]


def test_an_answer_from_the_service_is_not_a_network_failure() -> None:
    assert network_cause(RetryBudgetExhausted("gave up after 8 retries of one request: HTTP 429 from x")) is None
