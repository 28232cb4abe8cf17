"""Log Analytics through the real azure-monitor-query LogsQueryClient."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from pipelines.emulator import DEMO_CLIENT_ID, RunningEmulator
from pipelines.emulator.loganalytics import LogAnalytics, QueryError, parse_kql, parse_timespan
from pipelines.emulator.store import TenantStore

from .conftest import http, token, write_tenant

WORKSPACE = "11111111-2222-3333-4444-555555555555"
AUDIT_ROWS = [
    {
        "TimeGenerated": f"2026-05-0{day}T0{hour}:00:00.000Z",
        "OperationName": "Add member to role completed (PIM activation)" if hour % 2 else "Other",
        "LoggedByService": "PIM",
        "DurationMs": hour * 10,
        "Score": 0.5,
        "IsInteractive": True,
        "InitiatedBy": {"user": {"id": f"user{hour}"}},
        "TargetResources": [{"id": "role"}],
    }
    for day in (1, 2)
    for hour in range(4)
]


def logs_client(emulator: RunningEmulator, **kwargs) -> LogsQueryClient:
    credential = ClientSecretCredential(
        emulator.tenant_id,
        DEMO_CLIENT_ID,
        "pimlens-demo-secret",
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    return LogsQueryClient(credential, endpoint=emulator.url + "/v1", connection_verify=str(emulator.ca_file), **kwargs)


def test_query_with_time_window_filter_order_and_take(serve) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS})
    result = logs_client(emulator).query_workspace(
        WORKSPACE,
        'AuditLogs | where OperationName == "Add member to role completed (PIM activation)" and DurationMs >= 10'
        " | order by TimeGenerated desc | take 3",
        timespan=(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC)),
    )
    assert result.status == LogsQueryStatus.SUCCESS
    (table,) = result.tables
    assert table.columns[:4] == ["TimeGenerated", "OperationName", "LoggedByService", "DurationMs"]
    assert table.columns_types == ["datetime", "string", "string", "long", "real", "bool", "dynamic", "dynamic"]
    assert [row["TimeGenerated"] for row in table.rows] == [
        datetime(2026, 5, 2, 3, tzinfo=UTC),
        datetime(2026, 5, 2, 1, tzinfo=UTC),
        datetime(2026, 5, 1, 3, tzinfo=UTC),
    ]
    # dynamic columns travel as JSON text, as the real service sends them.
    assert table.rows[0]["InitiatedBy"] == '{"user":{"id":"user3"}}'
    assert emulator.stats()["rows_served"] == {"loganalytics/AuditLogs": 3}


def test_timespan_and_kql_time_filter_combine(serve) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS})
    result = logs_client(emulator, audience="https://api.loganalytics.io").query_workspace(
        WORKSPACE,
        "AuditLogs | where TimeGenerated >= datetime(2026-05-01T01:00:00Z) and TimeGenerated < datetime(2026-05-02)"
        " | order by TimeGenerated asc",
        timespan=(datetime(2026, 5, 1, 2, tzinfo=UTC), timedelta(days=7)),
    )
    assert [row["DurationMs"] for row in result.tables[0].rows] == [20, 30]


def test_in_matches_any_of_its_values_case_sensitively(serve) -> None:
    services = ["PIM", "Access Reviews", "Core Directory", "pim"]
    rows = [{**row, "LoggedByService": service} for row, service in zip(AUDIT_ROWS, services, strict=False)]
    emulator = serve({"loganalytics/AuditLogs": rows})
    result = logs_client(emulator).query_workspace(
        WORKSPACE,
        'AuditLogs | where LoggedByService in ("PIM", "Access Reviews") and DurationMs >= 0',
        timespan=None,
    )
    assert [row["LoggedByService"] for row in result.tables[0].rows] == ["PIM", "Access Reviews"]


def test_more_rows_than_the_limit_is_a_partial_result(serve) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS}, loganalytics_row_limit=5)
    result = logs_client(emulator).query_workspace(WORKSPACE, "AuditLogs", timespan=None)
    assert result.status == LogsQueryStatus.PARTIAL
    assert len(result.partial_data[0].rows) == 5
    assert result.partial_error.code == "PartialError"


@pytest.mark.parametrize(
    "query",
    [
        "AuditLogs | summarize count() by OperationName",
        "AuditLogs | where OperationName contains 'PIM'",
        "AuditLogs | where OperationName in ('a'",
        "AuditLogs | project TimeGenerated",
        "union AuditLogs, SigninLogs",
    ],
)
def test_unsupported_kql_is_a_bad_argument_error(serve, query: str) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS})
    with pytest.raises(HttpResponseError) as caught:
        logs_client(emulator).query_workspace(WORKSPACE, query, timespan=None)
    assert caught.value.status_code == 400
    response = http(emulator).post(
        f"{emulator.url}/v1/workspaces/{WORKSPACE}/query",
        json={"query": query},
        headers={"Authorization": f"Bearer {token(emulator, 'https://api.loganalytics.io/.default')}"},
    )
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("BadArgumentError", "The request had some invalid properties")
    assert error["innererror"]["code"] in ("SyntaxError", "SemanticError")


def test_unknown_column_and_missing_table(serve) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS})
    client = logs_client(emulator)
    with pytest.raises(HttpResponseError, match="Failed to resolve column named 'Nope'"):
        client.query_workspace(WORKSPACE, 'AuditLogs | where Nope == "x"', timespan=None)
    empty = client.query_workspace(WORKSPACE, "SigninLogs | take 5", timespan=timedelta(hours=24))
    assert (empty.tables[0].columns, empty.tables[0].rows) == ([], [])


def test_graph_tokens_do_not_open_log_analytics(serve) -> None:
    emulator = serve({"loganalytics/AuditLogs": AUDIT_ROWS})
    client = http(emulator)
    url = f"{emulator.url}/v1/workspaces/{WORKSPACE}/query"
    response = client.post(url, json={"query": "AuditLogs"}, headers={"Authorization": f"Bearer {token(emulator)}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidTokenError"
    # The refused request's body was drained: the same keep-alive connection serves the next query.
    la_token = token(emulator, "https://api.loganalytics.io/.default")
    response = client.post(url, json={"query": "AuditLogs | take 1"}, headers={"Authorization": f"Bearer {la_token}"})
    assert len(response.json()["tables"][0]["rows"]) == 1
    assert client.get(f"{emulator.url}/_emulator/stats").json()["responses_by_status"] == {"401": 1, "200": 3}


def test_timespan_forms() -> None:
    now = datetime(2026, 5, 2, 12, tzinfo=UTC)
    assert parse_timespan("PT24H", now) == (datetime(2026, 5, 1, 12, tzinfo=UTC), now)
    assert parse_timespan("PT86400.0S", now) == (datetime(2026, 5, 1, 12, tzinfo=UTC), now)
    assert parse_timespan("2026-05-01T00:00:00.000Z/P1D", now) == (
        datetime(2026, 5, 1, tzinfo=UTC),
        datetime(2026, 5, 2, tzinfo=UTC),
    )
    with pytest.raises(QueryError):
        parse_timespan("P1M", now)


def test_kql_plan() -> None:
    plan = parse_kql('SigninLogs | where UserId == "a\\"b" | sort by TimeGenerated | limit 10;')
    assert (plan.table, plan.conditions, plan.order, plan.take) == (
        "SigninLogs",
        (("UserId", "==", 'a"b'),),
        (("TimeGenerated", True),),  # KQL sorts descending by default
        10,
    )


# -- the time-window index ---------------------------------------------------------------------------------

# Out of time order on purpose (the index then keeps a sorted permutation), with equal times, a row with no
# TimeGenerated and one whose TimeGenerated is not an instant.
SHUFFLED_ROWS = [
    {"TimeGenerated": "2026-05-01T12:00:00Z", "Id": "c", "Service": "PIM", "Extra": {"k": 1}},
    {"TimeGenerated": "2026-05-01T00:00:00Z", "Id": "a", "Service": "PIM"},
    {"Id": "untimed", "Service": "PIM"},
    {"TimeGenerated": "2026-05-02T00:00:00Z", "Id": "d", "Service": "Core"},
    {"TimeGenerated": "2026-05-01T06:00:00.000001Z", "Id": "b", "Service": "Core", "Count": 3},
    {"TimeGenerated": "2026-05-01T12:00:00Z", "Id": "c2", "Service": "Core"},
    {"TimeGenerated": "2026-05-02T23:59:59.999999Z", "Id": "e", "Service": "PIM"},
]


def _la(tmp_path, rows, **kwargs) -> LogAnalytics:
    return LogAnalytics(TenantStore(write_tenant(tmp_path, {"loganalytics/T": rows})), **kwargs)


def _ids(la: LogAnalytics, query: str, timespan: str | None = None) -> list[str]:
    response, _, count = la.query({"query": query, "timespan": timespan})
    table = response["tables"][0]
    position = [c["name"] for c in table["columns"]].index("Id")
    assert count == len(table["rows"])
    return [row[position] for row in table["rows"]]


def test_time_index_keeps_columns_and_types(tmp_path) -> None:
    la = _la(tmp_path, SHUFFLED_ROWS)
    response, _, _ = la.query({"query": "T | take 0"})
    columns = [(c["name"], c["type"]) for c in response["tables"][0]["columns"]]
    assert columns == [
        ("TimeGenerated", "datetime"),
        ("Id", "string"),
        ("Service", "string"),
        ("Extra", "dynamic"),
        ("Count", "long"),
    ]
    pretty = _la(tmp_path / "pretty", json.dumps(SHUFFLED_ROWS, indent=2))  # parsed whole, not line-indexed
    assert pretty.query({"query": "T | take 0"})[0] == response


def test_adjacent_windows_return_every_timed_row_exactly_once(tmp_path) -> None:
    la = _la(tmp_path, SHUFFLED_ROWS)
    seen: list[str] = []
    for hours in range(0, 72, 6):
        start = datetime(2026, 4, 30, 12, tzinfo=UTC) + timedelta(hours=hours)
        end = start + timedelta(hours=6)
        window = f"TimeGenerated >= datetime({start.isoformat()}) and TimeGenerated < datetime({end.isoformat()})"
        seen += _ids(
            la, f"T | where {window} | order by TimeGenerated asc", timespan=f"{start.isoformat()}/{end.isoformat()}"
        )
    assert seen == ["a", "b", "c", "c2", "d", "e"]  # time order, equal times in file order; no untimed row


def test_window_boundaries_are_inclusive_start_exclusive_end(tmp_path) -> None:
    la = _la(tmp_path, SHUFFLED_ROWS)
    asc = " | order by TimeGenerated asc"
    noon, next_day = "datetime(2026-05-01T12:00:00Z)", "datetime(2026-05-02)"
    assert _ids(la, f"T | where TimeGenerated >= {noon} and TimeGenerated < {next_day}{asc}") == ["c", "c2"]
    assert _ids(la, f"T | where TimeGenerated > {noon} and TimeGenerated <= {next_day}{asc}") == ["d"]
    assert _ids(la, f"T | where TimeGenerated == {noon}{asc}") == ["c", "c2"]
    assert _ids(la, f"T | where TimeGenerated != {noon}{asc}") == ["a", "b", "d", "e"]
    # The timespan is [start, end) too, and one microsecond matters.
    assert _ids(la, "T" + asc, timespan="2026-05-01T06:00:00.000001Z/2026-05-01T12:00:00Z") == ["b"]
    assert _ids(la, "T" + asc, timespan="2026-05-01T06:00:00.000002Z/2026-05-01T12:00:00.000001Z") == ["c", "c2"]
    # Without a time bound every row is scanned, the untimed one included (first when ascending).
    assert _ids(la, "T" + asc) == ["untimed", "a", "b", "c", "c2", "d", "e"]


def test_other_where_clauses_order_and_take_apply_inside_the_window(tmp_path) -> None:
    la = _la(tmp_path, SHUFFLED_ROWS)
    span = "2026-05-01T00:00:00Z/2026-05-03T00:00:00Z"
    assert _ids(la, 'T | where Service == "PIM" | order by TimeGenerated asc', span) == ["a", "c", "e"]
    assert _ids(la, 'T | where Service != "PIM" | order by TimeGenerated desc', span) == ["d", "c2", "b"]
    assert _ids(la, "T | where Count >= 3", span) == ["b"]
    assert _ids(la, 'T | where Service == "Core"', span) == ["d", "b", "c2"]  # no order: file order
    assert _ids(la, "T | order by TimeGenerated asc | take 2", span) == ["a", "b"]
    assert _ids(la, "T | order by Service asc, TimeGenerated desc | take 3", span) == ["d", "c2", "b"]
    with pytest.raises(QueryError, match="Failed to resolve column named 'Nope'"):
        la.query({"query": 'T | where Nope == "x"', "timespan": "2030-01-01T00:00:00Z/P1D"})  # empty window


def test_partial_result_inside_a_window(tmp_path) -> None:
    la = _la(tmp_path, SHUFFLED_ROWS, row_limit=2)
    span = "2026-05-01T00:00:00Z/2026-05-03T00:00:00Z"
    response, _, count = la.query({"query": "T | order by TimeGenerated asc", "timespan": span})
    assert count == 2 and "error" in response
    assert [row[1] for row in response["tables"][0]["rows"]] == ["a", "b"]
    response, _, count = la.query({"query": 'T | where Service == "PIM" | take 2', "timespan": span})
    assert count == 2 and "error" not in response  # take within the limit: whole
    response, _, count = la.query({"query": "T | order by TimeGenerated asc", "timespan": "2026-05-01T00:00:00Z/PT12H"})
    assert count == 2 and "error" not in response  # exactly the limit: whole


def test_a_time_that_is_not_an_instant_makes_the_column_a_string(tmp_path) -> None:
    la = _la(tmp_path, [*SHUFFLED_ROWS, {"TimeGenerated": "yesterday", "Id": "bad"}])
    response, _, _ = la.query({"query": "T | take 0"})
    assert response["tables"][0]["columns"][0] == {"name": "TimeGenerated", "type": "string"}
    # The timespan still filters by instant, as the service would; the bad value is in no window.
    assert _ids(la, "T", timespan="2026-05-01T00:00:00Z/P1D") == ["c", "a", "b", "c2"]
