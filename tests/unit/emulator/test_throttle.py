import time

from pipelines.emulator import DEMO_CLIENT_ID
from pipelines.emulator.throttle import Throttler, request_cost, tenant_size_budget

from .conftest import GraphClient, graph_error, users

AUDITS = {"v1.0/auditLogs/directoryAudits": [{"id": f"a{i}"} for i in range(3)]}


def test_audit_logs_allow_five_requests_per_window_then_429(serve) -> None:
    emulator = serve(AUDITS, retry_after_scale=0.1)  # a 1 s window instead of 10 s
    client = GraphClient(emulator)
    statuses = [client.get("/v1.0/auditLogs/directoryAudits").status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = client.get("/v1.0/auditLogs/directoryAudits")
    assert refused.status_code == 429
    assert graph_error(refused)["code"] == "TooManyRequests"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["x-ms-throttle-scope"] == f"Tenant_Application/Read/{DEMO_CLIENT_ID}/{emulator.tenant_id}"
    assert emulator.stats()["retry_after_violations"] == 0

    # Asking again before Retry-After has passed is a client violation, and is refused again.
    assert client.get("/v1.0/auditLogs/directoryAudits").status_code == 429
    # Other families are not bound by the audit window.
    assert client.get("/v1.0/roleManagement/directory/roleAssignments").status_code == 200
    time.sleep(1.0)
    assert client.get("/v1.0/auditLogs/directoryAudits").status_code == 200

    stats = emulator.stats()
    assert stats["retry_after_violations"] == 1
    assert stats["retry_after_violations_by_path"] == {"/v1.0/auditLogs/directoryAudits": 1}
    assert stats["throttled_total"] == 2
    assert stats["throttled_by_cause"] == {"rate_limit": 2}
    assert stats["responses_by_status"] == {"200": 8, "429": 2}


def test_limits_can_be_switched_off(serve) -> None:
    emulator = serve(AUDITS, enforce_rate_limits=False)
    client = GraphClient(emulator)
    assert {client.get("/v1.0/auditLogs/directoryAudits").status_code for _ in range(8)} == {200}


def test_directory_reads_report_their_resource_units(serve) -> None:
    emulator = serve({"v1.0/users": users(3)})
    client = GraphClient(emulator)
    assert client.get("/v1.0/users").headers["x-ms-resource-unit"] == "2"
    assert client.get("/v1.0/users?$select=id").headers["x-ms-resource-unit"] == "1"
    assert "x-ms-resource-unit" not in client.get("/v1.0/roleManagement/directory/roleAssignments").headers


def test_resource_unit_bucket_refills_over_the_window() -> None:
    now = [0.0]
    throttler = Throttler(user_count=10, time_scale=1.0, clock=lambda: now[0])
    assert throttler.capacity == 3_500
    for _ in range(1_750):
        assert throttler.admit("app", ["users"], cost=2).retry_after is None
    refused = throttler.admit("app", ["users"], cost=2)
    assert refused.retry_after is not None
    assert abs(refused.retry_after - 2 / 350) < 1e-9
    # Another app has its own bucket; PIM paths have none.
    assert throttler.admit("other", ["users"], cost=2).retry_after is None
    assert throttler.admit("app", ["roleManagement", "directory", "roleAssignments"], cost=1) is None
    now[0] += 1.0  # 350 RU back
    assert throttler.admit("app", ["users"], cost=2).retry_after is None


def test_cost_table_and_tenant_sizes() -> None:
    assert request_cost(["users"], has_select=False, has_expand=False, top=None) == 2
    assert request_cost(["users"], has_select=True, has_expand=False, top=999) == 1
    assert request_cost(["groups", "g1", "transitiveMembers"], has_select=False, has_expand=True, top=None) == 6
    assert request_cost(["servicePrincipals"], has_select=True, has_expand=False, top=5) == 1
    assert [tenant_size_budget(n) for n in (49, 50, 500, 501)] == [3_500, 5_000, 5_000, 8_000]
