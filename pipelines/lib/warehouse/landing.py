"""Lands an extracted NDJSON file in DuckDB in one transaction with its manifest row and watermark.

Either the rows, the ``meta.loads`` row and the watermark all commit, or none of them does: a run killed at any
point leaves the warehouse as it was before that collection, and the next run repeats the work.

An event stream's records file is parsed once, by the insert: its event span and its repeated ids come from the
small keys file the extractor wrote beside it (see pipelines/lib/graph/record_file.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.graph.collections import CollectionSpec, LoadMode
from pipelines.lib.graph.extract import MAX_RECORD_BYTES, ExtractResult
from pipelines.lib.graph.record_file import keys_path
from pipelines.lib.warehouse.locks import connect_waiting
from pipelines.lib.warehouse.quarantine import QuarantinedRecord, quarantine_load, strict_instant_sql
from pipelines.lib.warehouse.schema import ensure_meta, ensure_raw_table
from pipelines.lib.warehouse.typed_events import type_load

log = logging.getLogger(__name__)

# The landing connection only appends files it has on disk, so spilling beats growing: a small buffer pool, and
# what does not fit goes to DuckDB's temp directory (``<warehouse>.tmp``). One thread, because each reading thread
# holds its own 32 MB JSON buffer that cannot be spilled (two threads ran out of memory at 128 MB). 64 MB is the
# floor for inserting a file of multi-kilobyte JSON records: the scan's buffer and the records it parses take
# ~50 MB of it, and 56 MB ran out of memory. The dedupe fits beside it because it never runs beside a JSON scan
# (see _land_new_events). Measured with bench/extract/memory.py and recorded in docs/benchmarks.md.
# Insertion order of raw rows means nothing and costs memory to keep.
# The dedupe's join hashes the side written as its build side, the stored ids. DuckDB guessed that a JSON file
# holds a few dozen rows and hashed the incoming whole records instead (out of memory at 96 MB when rerunning 500k
# stored events). The dedupe now reads a table of the incoming keys, so both sides are ids; the setting stays so
# that which side is hashed does not hang on an estimate.
LANDING_SETTINGS = {
    "memory_limit": "64MB",
    "threads": 1,
    "preserve_insertion_order": False,
    "disabled_optimizers": "build_side_probe_side",
}


# The pool of a second attempt, for the rare file whose records need more than LANDING_SETTINGS allows: the JSON
# scan's own memory depends on the records' shape (100k audit events of many small values land in 64 MB; 60k
# records each holding one 1.4 kB string needed 72 MB). A failed landing rolled back whole, so landing the same
# file again is safe; see pipelines/lib/ingest.py.
RETRY_MEMORY_LIMIT = "256MB"


def connect_for_landing(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The connection one tenant's ingest lands every collection on: opening the warehouse reads its whole catalog,
    so the ingest opens it once, not once or twice per collection. A pipeline run holds the warehouse's run lock
    meanwhile, so no other pimlens process waits for it."""
    return connect_waiting(warehouse, config=LANDING_SETTINGS)


@dataclass(frozen=True)
class LoadSummary:
    load_id: str
    rows_received: int
    rows_inserted: int
    dead_letters: int
    watermark: datetime | None
    # The records of this load set aside in meta.quarantine (they are not in the raw table).
    quarantined: tuple[QuarantinedRecord, ...] = ()


def land_extracted(con: duckdb.DuckDBPyConnection, spec: CollectionSpec, **landing: Any) -> LoadSummary:
    """Lands one extracted file (``landing``: land_collection's keywords) on a landing connection, in its small pool.

    A file whose records need more memory than that pool is landed again with the pool at RETRY_MEMORY_LIMIT: the
    failed attempt committed nothing. The pool is set back afterwards, for the next collection on the connection.
    """
    if spec.mode is LoadMode.INCREMENTAL:
        _write_committed_rows(con)
    try:
        return land_collection(con, spec, **landing)
    except duckdb.OutOfMemoryException as error:
        log.warning(
            "landing %s ran out of memory within %s (%s); landing it again within %s",
            spec.table,
            LANDING_SETTINGS["memory_limit"],
            str(error).splitlines()[0],
            RETRY_MEMORY_LIMIT,
        )
    con.execute(f"set memory_limit = '{RETRY_MEMORY_LIMIT}'")
    try:
        return land_collection(con, spec, **landing)
    finally:
        con.execute(f"set memory_limit = '{LANDING_SETTINGS['memory_limit']}'")


def _write_committed_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Writes the rows the connection's earlier loads committed to the warehouse file before an event stream lands.

    Committed rows stay in the buffer pool until DuckDB checkpoints, which it does once its log passes 16 MB: up to
    a quarter of the 64 MB pool, which an event stream's JSON scan then lacks (a small tenant's 7,095 workspace
    audit rows ran out of it and were landed again at 256 MB). They are written at the connection's end anyway.
    A checkpoint refused because another transaction is open changes nothing: the landing goes on as before."""
    try:
        con.execute("checkpoint")
    except duckdb.TransactionException as error:
        log.info("no checkpoint before landing (%s)", str(error).splitlines()[0])


def read_watermark(con: duckdb.DuckDBPyConnection, tenant_id: str, collection: str) -> datetime | None:
    ensure_meta(con)
    row = con.execute(
        "select watermark from meta.watermarks where tenant_id = ? and collection = ?",
        [tenant_id, collection],
    ).fetchone()
    return row[0] if row else None


def land_collection(
    con: duckdb.DuckDBPyConnection,
    spec: CollectionSpec,
    *,
    tenant_id: str,
    load_id: str,
    started_at: datetime,
    ndjson_path: Path,
    extracted: ExtractResult,
    window_start: datetime | None,
) -> LoadSummary:
    ensure_meta(con)
    ensure_raw_table(con, spec.table)
    source = (
        f"read_json('{_sql_path(ndjson_path)}', format='newline_delimited', "
        f"columns={{'id': 'VARCHAR', 'parent_key': 'VARCHAR', 'record': 'JSON'}}, "
        f"maximum_object_size={MAX_RECORD_BYTES})"
    )
    con.execute("begin transaction")
    try:
        before = _count(con, spec.table, tenant_id)
        if spec.mode is LoadMode.SNAPSHOT:
            con.execute(
                f"insert into raw.{spec.table} by name "
                f"select ? as tenant_id, ? as load_id, now() as loaded_at, id, record, parent_key from {source}",
                [tenant_id, load_id],
            )
            watermark = None
        else:
            watermark = _land_new_events(con, spec, tenant_id, load_id, source, _keys_source(ndjson_path))
        # Read back from the table, not the file: the JSON scan's buffers are gone by now (see LANDING_SETTINGS).
        quarantined = quarantine_load(con, spec.table, tenant_id, load_id, snapshot=spec.mode is LoadMode.SNAPSHOT)
        type_load(con, spec.table, load_id)
        inserted = _count(con, spec.table, tenant_id) - before
        _insert_dead_letters(con, spec.table, tenant_id, load_id, extracted)
        con.execute(
            "insert into meta.loads values (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                tenant_id,
                spec.table,
                spec.mode.value,
                started_at,
                extracted.rows,
                inserted,
                extracted.pages,
                extracted.restarts,
                len(extracted.dead_letters),
                window_start,
                f"{spec.api_version}/{spec.path}",
            ],
        )
        record_coverage(con, spec, tenant_id, "ok", extracted=extracted, load_id=load_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return LoadSummary(load_id, extracted.rows, inserted, len(extracted.dead_letters), watermark, tuple(quarantined))


def record_coverage(
    con: duckdb.DuckDBPyConnection,
    spec: CollectionSpec,
    tenant_id: str,
    status: str,
    *,
    extracted: ExtractResult | None = None,
    load_id: str | None = None,
    http_status: int | None = None,
    error_code: str | None = None,
) -> None:
    """One row of ``meta.coverage``: what this run could read of a collection, and what stopped it."""
    ensure_meta(con)
    extracted = extracted or ExtractResult()
    con.execute(
        "insert into meta.coverage values (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            tenant_id,
            spec.table,
            status,
            http_status,
            error_code,
            spec.permission,
            extracted.rows,
            extracted.pages,
            extracted.requests,
            extracted.throttled,
            load_id,
        ],
    )


def latest_snapshot_query(table: str) -> str:
    """SQL for a tenant's latest committed snapshot of ``table``; the tenant id is its one parameter."""
    return f"""select rows.id, rows.parent_key, rows.record from raw.{table} as rows
        where rows.tenant_id = $tenant and rows.load_id = (
            select max(load_id) from meta.loads where tenant_id = $tenant and collection = '{table}'
        )"""


def latest_coverage(con: duckdb.DuckDBPyConnection, tenant_id: str, collection: str) -> str | None:
    ensure_meta(con)
    row = con.execute(
        "select status from meta.coverage where tenant_id = ? and collection = ? order by checked_at desc limit 1",
        [tenant_id, collection],
    ).fetchone()
    return row[0] if row else None


def _count(con: duckdb.DuckDBPyConnection, table: str, tenant_id: str) -> int:
    return con.execute(f"select count(*) from raw.{table} where tenant_id = ?", [tenant_id]).fetchone()[0]


def _insert_dead_letters(
    con: duckdb.DuckDBPyConnection, table: str, tenant_id: str, load_id: str, extracted: ExtractResult
) -> None:
    if not extracted.dead_letters:
        return
    con.executemany(
        "insert into raw.dead_letter values (?, ?, ?, ?, ?, ?, ?, now())",
        [
            [tenant_id, load_id, table, dead.page_number, dead.source_url, dead.error, dead.raw_text]
            for dead in extracted.dead_letters
        ],
    )


@dataclass(frozen=True)
class EventSpan:
    """The event times one incoming file holds; ``untimed`` rows have a time property that does not parse."""

    oldest: datetime | None
    newest: datetime | None
    untimed: int
    lines: int = 0


def _keys_source(ndjson_path: Path) -> str:
    keys = keys_path(ndjson_path)
    if not keys.exists():
        raise FileNotFoundError(
            f"{keys} is missing: an event stream's records must be written with their keys file "
            "(extract with time_property set; see pipelines/lib/graph/record_file.py)"
        )
    return (
        f"read_json('{_sql_path(keys)}', format='newline_delimited', "
        f"columns={{'line': 'BIGINT', 'id': 'VARCHAR', 'event_at': 'VARCHAR'}})"
    )


def _land_new_events(
    con: duckdb.DuckDBPyConnection, spec: CollectionSpec, tenant_id: str, load_id: str, source: str, keys: str
) -> datetime | None:
    """Appends the events not stored yet, records the span this load read and returns the advanced watermark."""
    # The keys are copied into a table first: a JSON scan holds a 32 MB read buffer that cannot spill for as long
    # as its query runs, and the dedupe's hash tables under the same buffer pool then ran out of memory. Copied,
    # the scan ends before the dedupe starts, and the table itself spills.
    con.execute(
        f"""create or replace temp table {INCOMING_KEYS} as
        select line, id, {strict_instant_sql("event_at")} as event_at from {keys}"""
    )
    span = _event_span(con)
    # An incoming row without a time could be any event, so then every stored load is compared.
    oldest = span.oldest if span.untimed == 0 else None
    parameters = {"tenant": tenant_id, "collection": spec.table, "oldest_incoming": oldest, "lines": span.lines}
    con.execute(_lines_to_skip_sql(spec.table), parameters)
    con.execute(f"drop table {INCOMING_KEYS}")
    any_skipped = con.execute(f"select skipped is not null from {SKIPPED_LINES}").fetchone()[0]
    insert = _insert_new_events_sql(spec.table, source, skip_lines=any_skipped)
    con.execute(insert, {"tenant": tenant_id, "load": load_id})
    con.execute(f"drop table {SKIPPED_LINES}")
    con.execute(
        "insert into meta.event_spans values (?, ?, ?, ?, ?, ?)",
        [load_id, tenant_id, spec.table, span.oldest, span.newest, span.untimed],
    )
    return _advance_watermark(con, spec.table, tenant_id, load_id, span.newest)


def _event_span(con: duckdb.DuckDBPyConnection) -> EventSpan:
    oldest, newest, untimed, lines = con.execute(
        f"""select min(event_at), max(event_at), count(*) filter (where event_at is null), count(*)
        from {INCOMING_KEYS}"""
    ).fetchone()
    return EventSpan(oldest, newest, untimed, lines)


# The keys of the incoming file, and one bit per incoming line that is not a new event, found from the keys
# alone; both are dropped before the load commits.
INCOMING_KEYS = "temp.main.landing_incoming_keys"
SKIPPED_LINES = "temp.main.landing_skipped_lines"


def _lines_to_skip_sql(table: str) -> str:
    """Marks the incoming lines that hold no new event: a later copy of an id, or an id already stored.

    The look-back window re-reads events already stored, and a page shift can repeat one inside a read. Only ids
    and line numbers go into hash tables, never whole records, and the records file is not read at all: the ids
    repeated inside the file, and the ids of the stored loads that reach into this file's oldest event. A load
    whose newest event is older than that cannot hold any of these events (an event's time does not change
    between reads); a load of unknown span is compared anyway. The hash tables spill under the memory limit.

    The lines are kept as a bitstring, bit ``line - 1`` set for a skipped line (null when none is): 2M lines take
    250 kB, which the insert reads as a constant. Joining the records with a table of the skipped lines instead
    built a hash table beside the JSON scan's buffers, and that ran out of memory under a 64 MB pool.
    """
    return f"""create or replace temp table {SKIPPED_LINES} as
        select bitstring_agg(line, 1, $lines) as skipped from (
        with older_loads as (
            select load_id from meta.event_spans
            where tenant_id = $tenant and collection = $collection and untimed_rows = 0
                and newest_event < $oldest_incoming
        ),
        overlapping as (
            select id from raw.{table}
            where tenant_id = $tenant and load_id not in (select load_id from older_loads)
        ),
        repeated as (
            select id, min(line) as first_line from {INCOMING_KEYS} group by id having count(*) > 1
        )
        select incoming.line from {INCOMING_KEYS} as incoming
        where exists (select 1 from overlapping where overlapping.id = incoming.id)
        union all
        select incoming.line from {INCOMING_KEYS} as incoming
        join repeated on repeated.id = incoming.id and incoming.line <> repeated.first_line
    )"""


def _insert_new_events_sql(table: str, source: str, *, skip_lines: bool) -> str:
    """Inserts the incoming records but the skipped lines: the one read of the records file.

    The keys file numbers the records file's lines from 1, as ``with ordinality`` does (one reading thread).
    When no line is skipped, as in most loads, the lines need not be numbered nor looked up.
    """
    select = f"""insert into raw.{table} by name
        select $tenant as tenant_id, $load as load_id, now() as loaded_at, incoming.id, incoming.record,
            incoming.parent_key"""
    if not skip_lines:
        return f"{select} from {source} as incoming"
    # A records file longer than its keys file fails here (bit out of range) instead of landing unchecked lines.
    return f"""{select} from {source} with ordinality as incoming
        where get_bit((select skipped from {SKIPPED_LINES}), (incoming.ordinality - 1)::integer) = 0"""


def _advance_watermark(
    con: duckdb.DuckDBPyConnection, table: str, tenant_id: str, load_id: str, newest: datetime | None
) -> datetime | None:
    """Moves the watermark to the newest event this load read, never backwards."""
    if newest is not None:
        con.execute(
            """insert into meta.watermarks values (?, ?, ?, ?)
            on conflict (tenant_id, collection) do update
            set watermark = greatest(meta.watermarks.watermark, excluded.watermark), load_id = excluded.load_id""",
            [tenant_id, table, newest, load_id],
        )
    return read_watermark(con, tenant_id, table)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
