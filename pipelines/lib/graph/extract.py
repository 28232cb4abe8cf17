"""Streams one Graph collection, page by page, into a newline-delimited JSON file ready for DuckDB.

An event stream's file gets a keys file beside it (see record_file.py), so landing parses the records only once.

A collection is either read whole or not at all: any page that cannot be fetched after its retries fails the
collection, and an expired page token restarts it from page one with the partial file thrown away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from pipelines.lib import progress
from pipelines.lib.graph.record_file import BufferedRecords, RecordFiles, RecordWriter
from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport, TransientError, redact_query

log = logging.getLogger(__name__)

MAX_RESTARTS = 3
# DuckDB's read_json reads objects up to this size with a buffer twice as large, within the landing connection's
# memory limit. Graph records are kilobytes; a larger one is dead-lettered rather than failing the whole load.
MAX_RECORD_BYTES = 16 * 1024 * 1024
EXPIRED_PAGE_TOKEN = "Directory_ExpiredPageToken"
T = TypeVar("T")


class CollectionRestart(Exception):
    """The server forgot our place in the collection; only a fresh start gives a complete read."""


@dataclass(frozen=True)
class DeadLetter:
    page_number: int
    source_url: str
    error: str
    raw_text: str


@dataclass
class ExtractResult:
    rows: int = 0
    pages: int = 0
    restarts: int = 0
    requests: int = 0
    throttled: int = 0
    parents: int = 0
    parents_skipped: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


async def fetch_page(transport: GraphTransport, url: str) -> dict[str, Any]:
    """One page as parsed JSON; a throttled, failed or cut-short page is fetched again."""

    async def once() -> dict[str, Any]:
        try:
            response = await transport.get_once(url)
        except GraphHTTPError as error:
            if error.code == EXPIRED_PAGE_TOKEN:
                raise CollectionRestart(str(error)) from error
            raise
        body = _json_of(response.content, url)
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise TransientError(f"a page without a 'value' array from {redact_query(url)}")
        return body

    return await _with_retries(transport, once)


async def _with_retries(transport: GraphTransport, once: Callable[[], Awaitable[T]]) -> T:
    """``once()`` again after each transient failure, waiting as the transport's retry budget says."""
    attempt = 0
    while True:
        try:
            return await once()
        except TransientError as error:
            attempt += 1
            await transport.wait_before_retry(attempt, error)


def _json_of(content: bytes, url: str) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise TransientError(f"unreadable JSON from {redact_query(url)}: {error}") from error


def split_records(
    items: list[Any], page_number: int, url: str, parent_key: str | None = None
) -> Iterator[tuple[str, bytes, dict[str, Any]] | DeadLetter]:
    """Each item as ``(id, NDJSON line {"id", "parent_key", "record"}, item)``, or a dead letter saying why not."""
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            reason = "record is not an object" if not isinstance(item, dict) else "record has no string id"
            raw = orjson.dumps(item).decode()
            yield DeadLetter(page_number, redact_query(url), reason, raw)
            continue
        line = orjson.dumps({"id": item["id"], "parent_key": parent_key, "record": item})
        if len(line) >= MAX_RECORD_BYTES:
            yield DeadLetter(
                page_number, redact_query(url), f"record of {len(line)} bytes is too large", line[:4096].decode()
            )
            continue
        yield item["id"], line, item


async def extract_collection(
    transport: GraphTransport, first_urls: Sequence[str], out_path: Path, *, time_property: str | None = None
) -> ExtractResult:
    """Reads every page from each of ``first_urls`` (one read, or one per filter of the collection), in turn, into
    ``out_path``; returns counts for reconciliation.

    With ``time_property`` (an event stream), the keys file landing needs is written beside ``out_path``.
    """
    result = ExtractResult()
    with RecordFiles(out_path, time_property) as writer:
        for first_url in first_urls:
            writer.begin_read()
            part = await _read_with_restarts(transport, first_url, writer, None)
            result.rows += part.rows
            result.pages += part.pages
            result.restarts += part.restarts
            result.dead_letters.extend(part.dead_letters)
    return result


async def extract_fan_out(
    transport: GraphTransport,
    jobs: list[tuple[str, str]],
    out_path: Path,
    *,
    concurrency: int = 4,
    time_property: str | None = None,
    object_per_parent: bool = False,
    errors_kept_as_records: frozenset[str] = frozenset(),
) -> ExtractResult:
    """Reads one nested collection per ``(parent_key, url)`` into ``out_path``, a few parents at a time.

    Pages of one parent follow each other, so the parallelism is across parents. Each parent is written out as
    soon as it is read whole, so memory holds at most ``concurrency`` parents. A parent deleted since its
    collection was read answers 404 and is skipped; any other failure fails the whole collection.

    With ``object_per_parent`` each URL answers one object (``users/{id}/mailboxSettings``), stored with the
    parent's key as its id; an error whose code is in ``errors_kept_as_records`` is stored as that record.
    """
    semaphore = asyncio.Semaphore(concurrency)
    result = ExtractResult(parents=len(jobs))
    if (tracker := progress.current()) is not None:
        tracker.total = len(jobs)

    with RecordFiles(out_path, time_property) as sink:

        async def read_parent(parent_key: str, url: str) -> None:
            async with semaphore:
                buffer = BufferedRecords(time_property)
                try:
                    if object_per_parent:
                        part = await _read_object(transport, url, buffer, parent_key, errors_kept_as_records)
                    else:
                        part = await _read_with_restarts(transport, url, buffer, parent_key)
                except GraphHTTPError as error:
                    if error.status != 404:
                        raise
                    log.info("parent %s vanished since it was read: %s", parent_key, error.code)
                    result.parents_skipped += 1
                    return
                # One event loop thread: this write and these sums never interleave with another parent's.
                buffer.write_to(sink)
                result.rows += part.rows
                result.pages += part.pages
                result.restarts += part.restarts
                result.dead_letters.extend(part.dead_letters)
                if tracker is not None:
                    tracker.advance()

        try:
            async with asyncio.TaskGroup() as group:
                for parent_key, url in jobs:
                    group.create_task(read_parent(parent_key, url))
        except ExceptionGroup as failures:
            # One parent's failure is the collection's; raise it as itself so a 403 is handled like any other.
            raise failures.exceptions[0] from failures
    return result


async def _read_object(
    transport: GraphTransport, url: str, sink: BufferedRecords, parent_key: str, kept_errors: frozenset[str]
) -> ExtractResult:
    """One object as the parent's record; a kept error's body (code and message) is the record instead."""

    async def once() -> dict[str, Any]:
        try:
            response = await transport.get_once(url)
        except GraphHTTPError as error:
            if error.code not in kept_errors:
                raise
            return {"error": {"code": error.code, "message": error.message}}
        record = _json_of(response.content, url)
        if not isinstance(record, dict):
            raise TransientError(f"an answer that is not an object from {redact_query(url)}")
        return record

    record = await _with_retries(transport, once)
    sink.write(parent_key, orjson.dumps({"id": parent_key, "parent_key": parent_key, "record": record}), record)
    if (tracker := progress.current()) is not None:
        tracker.page(1)
    return ExtractResult(rows=1, pages=1)


async def _read_with_restarts(
    transport: GraphTransport, first_url: str, sink: RecordWriter | BufferedRecords, parent_key: str | None
) -> ExtractResult:
    """Every page from ``first_url``; an expired page token throws the partial read away and starts again."""
    restarts = 0
    while True:
        try:
            sink.reset()
            result = await _read_all_pages(transport, first_url, sink, parent_key)
            result.restarts = restarts
            return result
        except CollectionRestart as error:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise
            log.warning("restarting %s from page 1: %s", redact_query(first_url), error)


async def _read_all_pages(
    transport: GraphTransport, first_url: str, sink: RecordWriter | BufferedRecords, parent_key: str | None
) -> ExtractResult:
    result = ExtractResult()
    url: str | None = first_url
    while url:
        # Not bound to a name here: a page is freed once written, before the next one is fetched (see _write_page).
        url = _write_page(await fetch_page(transport, url), url, sink, parent_key, result)
    return result


def _write_page(
    body: dict[str, Any], url: str, sink: RecordWriter | BufferedRecords, parent_key: str | None, result: ExtractResult
) -> str | None:
    """Writes one page's records (or dead letters) and returns the next page's URL, if any.

    The page is only ever held by this call, so two pages' Python objects never live at once: Python's small-object
    allocator keeps an arena for as long as any later object lives in it (the same as in loganalytics.py).
    """
    result.pages += 1
    rows_before = result.rows
    for split in split_records(body["value"], result.pages, url, parent_key):
        if isinstance(split, DeadLetter):
            result.dead_letters.append(split)
            continue
        sink.write(*split)
        result.rows += 1
    if (tracker := progress.current()) is not None:
        tracker.page(result.rows - rows_before)
    # Graph pages with @odata.nextLink, Azure Resource Manager with nextLink.
    return body.get("@odata.nextLink") or body.get("nextLink")
