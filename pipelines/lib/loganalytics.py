"""Reads Log Analytics tables (AuditLogs, SigninLogs) through azure-monitor-query, a week window at a time.

A query answers at most 500,000 rows, and a truncated answer comes back as a *partial* result that is easy to
mistake for a whole one. So a window that comes back partial or near the cap is split in half and asked again,
and a partial result is never landed.

The SDK's client carries the request (auth, pipeline, endpoint), but the answer is read as raw JSON: building
the SDK's row models cost 60% of an L run's time, and the raw rows keep the service's own value text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.monitor.query import LogsQueryClient

from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.extract import DeadLetter, ExtractResult
from pipelines.lib.graph.retry import RETRYABLE_STATUS, RetryBudget, parse_retry_after

LOG_ANALYTICS_AUDIENCE = "https://api.loganalytics.io"
# Far enough below the service's 500,000-row cap that a busy day never nears it.
MAX_ROWS_PER_QUERY = 400_000
WINDOW = timedelta(days=7)
SMALLEST_WINDOW = timedelta(minutes=1)


class WindowTooFull(Exception):
    """A window's answer was partial or near the row cap; it is asked again in halves."""


@dataclass(frozen=True)
class LogTable:
    name: str  # the Log Analytics table, e.g. SigninLogs
    where: str = ""  # a KQL filter appended to every query, e.g. a service filter


def kql(table: LogTable, start: datetime, end: datetime) -> str:
    window = f"TimeGenerated >= datetime({_iso(start)}) and TimeGenerated < datetime({_iso(end)})"
    where = f"{window} and {table.where}" if table.where else window
    return f"{table.name} | where {where} | order by TimeGenerated asc"


def windows(start: datetime, end: datetime, size: timedelta = WINDOW) -> Iterator[tuple[datetime, datetime]]:
    cursor = start
    while cursor < end:
        yield cursor, min(cursor + size, end)
        cursor += size


def make_logs_client(settings: TenantSettings) -> LogsQueryClient:
    options: dict[str, Any] = {}
    if settings.is_custom_authority:
        options["authority"] = settings.authority_url
        options["disable_instance_discovery"] = True
    if settings.ca_bundle is not None:
        options["connection_verify"] = str(settings.ca_bundle)
    if settings.certificate_path is not None:
        credential = CertificateCredential(
            settings.tenant_id, settings.client_id, certificate_path=str(settings.certificate_path), **options
        )
    else:
        credential = ClientSecretCredential(settings.tenant_id, settings.client_id, settings.client_secret, **options)
    client_options: dict[str, Any] = {"audience": LOG_ANALYTICS_AUDIENCE, "retry_total": 0}
    if settings.ca_bundle is not None:
        client_options["connection_verify"] = str(settings.ca_bundle)
    # azure-core's own retry is off: pimlens' policy (retry.py) owns waits, budgets and Retry-After.
    return LogsQueryClient(credential, endpoint=f"{settings.log_analytics_url}/v1", **client_options)


def extract_log_table(
    client: LogsQueryClient,
    workspace_id: str,
    table: LogTable,
    start: datetime,
    end: datetime,
    out_path: Path,
    *,
    budget: RetryBudget,
    max_rows: int = MAX_ROWS_PER_QUERY,
) -> ExtractResult:
    """Every row of ``table`` with ``start <= TimeGenerated < end``, as NDJSON keyed by the row's ``Id``."""
    result = ExtractResult()
    pending = list(windows(start, end))
    with out_path.open("wb") as sink:
        while pending:
            window_start, window_end = pending.pop(0)
            try:
                rows = _query_window(client, workspace_id, table, window_start, window_end, budget, max_rows)
            except WindowTooFull:
                if window_end - window_start <= SMALLEST_WINDOW:
                    raise
                middle = window_start + (window_end - window_start) / 2
                pending[:0] = [(window_start, middle), (middle, window_end)]
                continue
            result.pages += 1
            for row in rows:
                if not isinstance(row.get("Id"), str) or not row["Id"]:
                    source = f"{table.name} {_iso(window_start)}/{_iso(window_end)}"
                    raw = orjson.dumps(row).decode()
                    result.dead_letters.append(DeadLetter(result.pages, source, "row has no Id", raw))
                    continue
                sink.write(orjson.dumps({"id": row["Id"], "parent_key": None, "record": row}))
                sink.write(b"\n")
                result.rows += 1
    return result


def _query_window(
    client: LogsQueryClient,
    workspace_id: str,
    table: LogTable,
    start: datetime,
    end: datetime,
    budget: RetryBudget,
    max_rows: int,
) -> list[dict[str, Any]]:
    request = HttpRequest(
        "POST",
        f"workspaces/{quote(workspace_id, safe='')}/query",
        json={"query": kql(table, start, end), "timespan": f"{_iso(start)}/{_iso(end)}"},
    )
    attempt = 0
    while True:
        try:
            response = client.send_request(request)
            retry_after, reason = None, None
            if response.status_code in RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                reason = f"HTTP {response.status_code} from Log Analytics"
            elif response.status_code >= 400:
                raise HttpResponseError(response=response)
            else:
                body = orjson.loads(response.read())
        except (ServiceRequestError, ServiceResponseError) as error:
            retry_after, reason = None, f"{type(error).__name__}: {error}"
        except orjson.JSONDecodeError as error:
            retry_after, reason = None, f"unreadable JSON from Log Analytics: {error}"
        if reason is None:
            break
        attempt += 1
        time.sleep(budget.next_wait(attempt, retry_after, reason))
    if body.get("error"):
        raise WindowTooFull(f"partial answer for {table.name} {start}..{end}: {body['error'].get('code')}")
    (answer,) = body["tables"]
    if len(answer["rows"]) >= max_rows:
        raise WindowTooFull(f"{len(answer['rows'])} rows for {table.name} {start}..{end}")
    columns = [column["name"] for column in answer["columns"]]
    return [dict(zip(columns, row, strict=True)) for row in answer["rows"]]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
