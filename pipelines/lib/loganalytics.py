"""Reads Log Analytics tables (AuditLogs, SigninLogs) through azure-monitor-query, a week window at a time.

A query answers at most 500,000 rows, and a truncated answer comes back as a *partial* result that is easy to
mistake for a whole one. So a window that comes back partial, near the cap or too large to hold is split in half
and asked again, and a partial result is never landed. Each next window is sized from the last answer.

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
from azure.core.exceptions import HttpResponseError, IncompleteReadError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest
from azure.monitor.query import LogsQueryClient

from pipelines.lib import progress
from pipelines.lib.config import TenantSettings
from pipelines.lib.credentials import sync_credential
from pipelines.lib.graph.extract import DeadLetter, ExtractResult
from pipelines.lib.graph.record_file import RecordFiles, RecordWriter
from pipelines.lib.graph.retry import RETRYABLE_STATUS, RetryBudget, parse_retry_after

# Far enough below the service's 500,000-row cap that a busy day never nears it.
MAX_ROWS_PER_QUERY = 400_000
# Memory, not the row cap, bounds a window: an answer is held as bytes and then as Python rows (about 3x), so a
# week of the L tenant's audit log (~65 MB) took the extractor to 680 MB. Windows are sized from the last answer
# to carry about TARGET_ANSWER_BYTES, and an answer announcing more than MAX_ANSWER_BYTES is split unread.
# The largest answer also sets how many 1 MB arenas Python's small-object allocator ever maps, and arenas that a
# later object pins stay resident under the landing that follows: 1.5 / 4 MB instead of 4 / 12 MB took the L
# run's peak RSS from 210 to 204 MB (2 / 6 MB: 206) for 2,381 Log Analytics queries instead of 1,008, at the
# same extractor CPU (sequential queries: the service limits concurrent ones). Measured with bench.extract.memory
# and bench.extract.run, recorded in docs/benchmarks.md.
TARGET_ANSWER_BYTES = 3 * 2**20 // 2  # 1.5 MB
MAX_ANSWER_BYTES = 4 * 2**20
WINDOW = timedelta(days=7)
# A window grows by at most this factor over the last one. Events are not spread evenly: a window sized from a
# quiet night, stretched over the busy day after it, answered over MAX_ANSWER_BYTES and was refused after the
# service had built it. Unbounded growth had 161 of the L tenant's 883 AuditLogs queries refused, 2.6M rows
# built and thrown away (more than the table holds); 1.5x, 63 of 925 (bench/extract/la_windows.py replays it).
MAX_GROWTH = 1.5
READ_BLOCK_BYTES = 1 << 20  # how much of an answer one read asks the socket for
SMALLEST_WINDOW = timedelta(minutes=1)


class WindowTooFull(Exception):
    """A window's answer was partial, near the row cap or too large to hold; it is asked again, smaller."""

    def __init__(self, message: str, announced_bytes: int | None = None) -> None:
        super().__init__(message)
        self.announced_bytes = announced_bytes  # the refused answer's size, when it announced one


@dataclass(frozen=True)
class LogTable:
    name: str  # the Log Analytics table, e.g. SigninLogs
    where: str = ""  # a KQL filter appended to every query, e.g. a service filter


def kql(table: LogTable, start: datetime, end: datetime) -> str:
    window = f"TimeGenerated >= datetime({_iso(start)}) and TimeGenerated < datetime({_iso(end)})"
    where = f"{window} and {table.where}" if table.where else window
    return f"{table.name} | where {where} | order by TimeGenerated asc"


def make_logs_client(settings: TenantSettings) -> LogsQueryClient:
    credential = sync_credential(settings)
    # azure-core reads a streamed body in 4 kB blocks by default: an L tenant's 4 GB of answers took a million
    # trips through urllib3 and the TLS socket (21k reads for the M tenant's 57k audit rows; 5k in 1 MB blocks).
    client_options: dict[str, Any] = {
        "audience": settings.cloud.log_analytics_url,
        "retry_total": 0,
        "connection_data_block_size": READ_BLOCK_BYTES,
    }
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
    time_property: str | None = None,
) -> ExtractResult:
    """Every row of ``table`` with ``start <= TimeGenerated < end``, as NDJSON keyed by the row's ``Id``.

    With ``time_property``, the keys file landing needs is written beside ``out_path`` (see record_file.py).
    """
    result = ExtractResult()
    cursor, size = start, WINDOW
    with RecordFiles(out_path, time_property) as sink:
        while cursor < end:
            window_end = min(cursor + size, end)
            try:
                # Not bound to a name here: the answer is freed as soon as it is written, before the next one is
                # asked for (see _write_answer).
                answer_bytes = _write_answer(
                    _query_window(client, workspace_id, table, cursor, window_end, budget, max_rows),
                    sink,
                    result,
                    f"{table.name} {_iso(cursor)}/{_iso(window_end)}",
                )
            except WindowTooFull as full:
                if window_end - cursor <= SMALLEST_WINDOW:
                    raise
                size = smaller_window(window_end - cursor, full.announced_bytes)
                continue
            size = next_window_size(window_end - cursor, answer_bytes)
            cursor = window_end
    return result


def probe_table(client: LogsQueryClient, workspace_id: str, table: LogTable, now: datetime) -> int:
    """The rows of ``table`` in the last hour: the query a run makes, once, with no retry (``pimlens doctor``)."""
    answer = _query_window(client, workspace_id, table, now - timedelta(hours=1), now, RetryBudget(0, 0), 1_000_000)
    return len(answer.raw_rows)


def _write_answer(answer: Answer, sink: RecordWriter, result: ExtractResult, source: str) -> int:
    """Writes one answer's rows (a row without an Id is a dead letter) and returns the answer's size in bytes.

    The answer is only ever held by this call. Held by the read loop instead, it stayed alive while the next answer
    was read and parsed: two answers' Python objects at once, and Python's small-object allocator keeps an arena
    of them for as long as any later object lives in it, so the extractor held ~20 MB more when landing started
    at L than at S (bench.extract.memory, docs/benchmarks.md).
    """
    result.pages += 1
    rows_before = result.rows
    for row in answer.rows():
        if not isinstance(row.get("Id"), str) or not row["Id"]:
            result.dead_letters.append(DeadLetter(result.pages, source, "row has no Id", orjson.dumps(row).decode()))
            continue
        sink.write(row["Id"], orjson.dumps({"id": row["Id"], "parent_key": None, "record": row}), row)
        result.rows += 1
    if (tracker := progress.current()) is not None:
        tracker.page(result.rows - rows_before)
    return answer.size_bytes


def next_window_size(last: timedelta, answer_bytes: int) -> timedelta:
    """The window expected to answer about TARGET_ANSWER_BYTES, judged by the last one, growing at most MAX_GROWTH
    times; between 1 minute and 1 week."""
    scaled = last * (TARGET_ANSWER_BYTES / max(answer_bytes, 1))
    return max(SMALLEST_WINDOW, min(WINDOW, scaled, last * MAX_GROWTH))


def smaller_window(refused: timedelta, announced_bytes: int | None) -> timedelta:
    """The window to ask instead of a refused one: half of it, or as much less as its announced size says, so a
    burst of events costs one more query rather than one per halving."""
    half = refused / 2
    if not announced_bytes:
        return half
    return max(SMALLEST_WINDOW, min(half, refused * (TARGET_ANSWER_BYTES / announced_bytes)))


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    raw_rows: list[list[Any]]
    size_bytes: int

    def rows(self) -> Iterator[dict[str, Any]]:
        # One dict at a time: a list of them would hold the answer a second time.
        for row in self.raw_rows:
            yield dict(zip(self.columns, row, strict=True))


def _query_window(
    client: LogsQueryClient,
    workspace_id: str,
    table: LogTable,
    start: datetime,
    end: datetime,
    budget: RetryBudget,
    max_rows: int,
) -> Answer:
    request = HttpRequest(
        "POST",
        f"workspaces/{quote(workspace_id, safe='')}/query",
        json={"query": kql(table, start, end), "timespan": f"{_iso(start)}/{_iso(end)}"},
    )
    attempt = 0
    while True:
        try:
            response = client.send_request(request, stream=True)
            retry_after, reason = None, None
            announced = int(response.headers.get("Content-Length") or 0)
            if response.status_code == 200 and announced > MAX_ANSWER_BYTES:
                response.close()
                raise WindowTooFull(f"{announced} bytes announced for {table.name} {start}..{end}", announced)
            if response.status_code != 200:
                response.read()  # an error's body is small, and the error below reads it
            if response.status_code in RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                reason = f"HTTP {response.status_code} from Log Analytics"
            elif response.status_code >= 400:
                raise HttpResponseError(response=response)
            else:
                raw_body = response.read()
                body = orjson.loads(raw_body)
        except (ServiceRequestError, ServiceResponseError, IncompleteReadError) as error:
            retry_after, reason = None, f"{type(error).__name__}: {error}"
        except orjson.JSONDecodeError as error:
            retry_after, reason = None, f"unreadable JSON from Log Analytics: {error}"
        if reason is None:
            break
        attempt += 1
        wait = budget.next_wait(attempt, retry_after, reason)
        if (tracker := progress.current()) is not None:
            tracker.wait(wait, reason)
        time.sleep(wait)
    if body.get("error"):
        raise WindowTooFull(f"partial answer for {table.name} {start}..{end}: {body['error'].get('code')}")
    (answer,) = body["tables"]
    if len(answer["rows"]) >= max_rows:
        raise WindowTooFull(f"{len(answer['rows'])} rows for {table.name} {start}..{end}")
    return Answer([column["name"] for column in answer["columns"]], answer["rows"], len(raw_body))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
