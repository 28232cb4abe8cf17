import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
import pytest

from pipelines.emulator import DEMO_CLIENT_ID, FaultPlan

from .conftest import GraphClient, graph_error, http, users

USERS = {"v1.0/users": users(250)}
ALL_IDS = [f"u{i:04d}" for i in range(250)]


def test_latency_is_added_to_each_request(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(latency_ms=150))
    client = GraphClient(emulator)
    started = time.perf_counter()
    assert client.get("/v1.0/users?$top=1").status_code == 200
    assert time.perf_counter() - started >= 0.15
    assert emulator.stats()["faults"] == {"latency": 1}


@pytest.mark.parametrize(
    ("style", "expected"),
    [("integer", "1"), ("decimal", "0.213"), ("zero", "0"), ("large", "32"), ("missing", None)],
)
def test_throttle_storm_retry_after_styles(serve, style: str, expected: str | None) -> None:
    emulator = serve(USERS, retry_after_scale=0.1, faults=FaultPlan(throttle_rate=1.0, retry_after_styles=(style,)))
    response = GraphClient(emulator).get("/v1.0/users")
    assert response.status_code == 429
    assert graph_error(response)["code"] == "TooManyRequests"
    assert response.headers.get("Retry-After") == expected
    assert emulator.stats()["throttled_by_cause"] == {"fault": 1}


def test_throttle_storm_http_date(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(throttle_rate=1.0, retry_after_styles=("http-date",)))
    response = GraphClient(emulator).get("/v1.0/users")
    wait = parsedate_to_datetime(response.headers["Retry-After"]).timestamp() - time.time()
    assert 2 <= wait <= 4


def test_a_request_inside_an_injected_window_is_counted(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(throttle_rate=1.0, retry_after_styles=("integer",)))
    client = GraphClient(emulator)
    client.get("/v1.0/users")
    client.get("/v1.0/users")  # 3 s were announced; this one is early
    client.get("/v1.0/groups")  # another collection: not bound by that window
    assert emulator.stats()["retry_after_violations_by_path"] == {"/v1.0/users": 1}


def test_server_errors_use_the_configured_statuses(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(server_error_rate=1.0, server_error_statuses=(502,)))
    response = GraphClient(emulator).get("/v1.0/users")
    assert response.status_code == 502
    assert graph_error(response)["code"] == "BadGateway"


def test_truncated_body_matches_its_content_length_but_is_not_json(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(truncate_rate=1.0))
    response = GraphClient(emulator).get("/v1.0/users")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) > 0
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    stats = emulator.stats()
    assert (stats["faults"], stats["pages_served"]) == ({"truncated": 1}, {})


def test_incomplete_body_breaks_the_read(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(incomplete_body_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        GraphClient(emulator).get("/v1.0/users")


def test_connection_reset_sends_nothing(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(reset_rate=1.0))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        GraphClient(emulator).get("/v1.0/users")
    assert emulator.stats()["faults"] == {"connection_reset": 1}


def test_token_endpoint_failures(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(token_failure_rate=1.0))
    response = http(emulator).post(
        f"{emulator.url}/{emulator.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "pimlens-demo-secret",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert (response.status_code, response.json()["error"]) == (503, "temporarily_unavailable")


def test_empty_pages_with_next_links_are_inserted(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(empty_page_rate=0.5, seed=3))
    client = GraphClient(emulator)
    records, pages = client.all_pages("/v1.0/users")
    assert [r["id"] for r in records] == ALL_IDS
    empty = emulator.stats()["faults"]["empty_page"]
    assert empty >= 1
    assert pages == 3 + empty
    assert emulator.stats()["pages_served"] == {"v1.0/users": pages}


def test_expired_page_token_on_the_kth_follow_once(serve) -> None:
    emulator = serve(USERS, faults=FaultPlan(expire_page_token_at=2))
    client = GraphClient(emulator)
    first = client.get("/v1.0/users").json()
    second = client.get(first["@odata.nextLink"]).json()
    expired = client.get(second["@odata.nextLink"])
    assert expired.status_code == 400
    assert graph_error(expired)["code"] == "Directory_ExpiredPageToken"
    # Restarting the collection from page 1 then succeeds: the fault fires once per collection.
    records, _ = client.all_pages("/v1.0/users")
    assert [r["id"] for r in records] == ALL_IDS


def test_faults_can_be_set_at_runtime_over_http(serve) -> None:
    emulator = serve(USERS)
    client = GraphClient(emulator).client
    response = client.post(f"{emulator.url}/_emulator/faults", json={"server_error_rate": 1.0, "seed": 9})
    assert response.status_code == 200
    assert emulator.faults == FaultPlan(server_error_rate=1.0, seed=9)
    assert GraphClient(emulator).get("/v1.0/users").status_code in (500, 502, 503, 504)
    bad = client.post(f"{emulator.url}/_emulator/faults", json={"no_such_fault": 1})
    assert bad.status_code == 400
    emulator.set_faults(FaultPlan())
    assert GraphClient(emulator).get("/v1.0/users").status_code == 200
    stats = client.get(f"{emulator.url}/_emulator/stats").json()
    assert stats["responses_by_status"]["200"] >= 1


def retrying_fetch(client: GraphClient, url: str) -> list[dict[str, Any]]:
    """What a correct extractor does: honour Retry-After, retry 5xx/transport/parse errors, and restart the
    collection on an expired page token."""
    records: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(500):
        if next_url is None:
            return records
        try:
            response = client.get(next_url)
            body = orjson.loads(response.content) if response.status_code == 200 else None
        except (httpx.TransportError, orjson.JSONDecodeError):
            continue
        if response.status_code == 429:
            header = response.headers.get("Retry-After")
            time.sleep(float(header) if header else 0.05)
        elif response.status_code == 400 and response.json()["error"]["code"] == "Directory_ExpiredPageToken":
            records, next_url = [], url
        elif body is not None:
            records.extend(body["value"])
            next_url = body.get("@odata.nextLink")
    raise AssertionError("did not finish")


def test_a_retrying_client_gets_exactly_the_records_through_every_fault(serve) -> None:
    plan = FaultPlan(
        seed=11,
        throttle_rate=0.2,
        retry_after_styles=("decimal", "zero", "missing"),
        server_error_rate=0.15,
        truncate_rate=0.1,
        incomplete_body_rate=0.05,
        empty_page_rate=0.2,
        expire_page_token_at=3,
        reset_rate=0.05,
    )
    emulator = serve(USERS, retry_after_scale=0.01, faults=plan)
    records = retrying_fetch(GraphClient(emulator), "/v1.0/users?$top=25")
    assert [r["id"] for r in records] == ALL_IDS
    stats = emulator.stats()
    assert stats["retry_after_violations"] == 0
    assert {"throttle", "server_error", "empty_page", "expired_page_token"} <= set(stats["faults"])
