"""Streams one Graph collection, page by page, into a newline-delimited JSON file ready for DuckDB.

A collection is either read whole or not at all: any page that cannot be fetched after its retries fails the
collection, and an expired page token restarts it from page one with the partial file thrown away.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport, TransientError, redact_query

log = logging.getLogger(__name__)

MAX_RESTARTS = 3
EXPIRED_PAGE_TOKEN = "Directory_ExpiredPageToken"


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
    dead_letters: list[DeadLetter] = field(default_factory=list)


async def fetch_page(transport: GraphTransport, url: str) -> dict[str, Any]:
    """One page as parsed JSON; a throttled, failed or cut-short page is fetched again."""
    attempt = 0
    while True:
        try:
            try:
                response = await transport.get_once(url)
            except GraphHTTPError as error:
                if error.code == EXPIRED_PAGE_TOKEN:
                    raise CollectionRestart(str(error)) from error
                raise
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError as error:
                raise TransientError(f"unreadable JSON from {redact_query(url)}: {error}") from error
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise TransientError(f"a page without a 'value' array from {redact_query(url)}")
            return body
        except TransientError as error:
            attempt += 1
            await transport.wait_before_retry(attempt, error)


def split_records(items: list[Any], page_number: int, url: str) -> Iterator[bytes | DeadLetter]:
    """Each item as an NDJSON line ``{"id":..., "record":...}``, or a dead letter saying why it cannot be one."""
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            reason = "record is not an object" if not isinstance(item, dict) else "record has no string id"
            raw = orjson.dumps(item).decode()
            yield DeadLetter(page_number, redact_query(url), reason, raw)
            continue
        yield orjson.dumps({"id": item["id"], "record": item})


async def extract_collection(transport: GraphTransport, first_url: str, out_path: Path) -> ExtractResult:
    """Reads every page of a collection into ``out_path``; returns counts for reconciliation."""
    restarts = 0
    while True:
        try:
            with out_path.open("wb") as sink:
                result = await _read_all_pages(transport, first_url, sink)
            result.restarts = restarts
            return result
        except CollectionRestart as error:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise
            log.warning("restarting %s from page 1: %s", redact_query(first_url), error)


async def _read_all_pages(transport: GraphTransport, first_url: str, sink: IO[bytes]) -> ExtractResult:
    result = ExtractResult()
    url: str | None = first_url
    while url:
        body = await fetch_page(transport, url)
        result.pages += 1
        for line in split_records(body["value"], result.pages, url):
            if isinstance(line, DeadLetter):
                result.dead_letters.append(line)
                continue
            sink.write(line)
            sink.write(b"\n")
            result.rows += 1
        url = body.get("@odata.nextLink")
    return result
