"""The alert state store: what was delivered where, each tenant's baseline, and the acknowledgements.

A small SQLite file beside the warehouse (``<warehouse>.alerts.sqlite``), never the warehouse itself: DuckDB admits
one writer process per file, and that process is the pipeline's run. The delivery sensor ticks in the Dagster
daemon every minute, while a run may hold the warehouse for many; an on-call admin acknowledges an alert from a
shell at any time. SQLite takes short write locks per transaction, so the sensor, the CLI and the pipeline (which
only reads the acknowledgements, when it writes the design tables) share it safely. The sensor reads the alerts
from the published analytics database, which a run replaces by a rename and never locks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.lib.files import restrict

SCHEMA = """
create table if not exists deliveries (
    idempotency_key text not null,
    channel text not null,
    tenant_id text not null,
    alert_id text,
    transition text not null,          -- opened, resolved, summary
    message text not null,             -- the message as JSON, so a retry sends what the first try sent
    status text not null,              -- pending, sent, summarised (covered by a summary), rejected (never taken)
    attempts integer not null default 0,
    next_attempt_at real not null,
    last_error text,
    created_at real not null,
    sent_at real,
    primary key (idempotency_key, channel)
);
create index if not exists deliveries_due on deliveries (status, channel, next_attempt_at);
create table if not exists baselines (
    tenant_id text not null,
    history_started_at text not null,
    summarised_at real not null,
    primary key (tenant_id, history_started_at)
);
create table if not exists acknowledgements (
    alert_id text not null,
    acknowledged_at text not null,
    acknowledged_by text not null,
    note text
);
"""


def state_path(warehouse: Path) -> Path:
    """The alert state store of `warehouse`: beside it."""
    return warehouse.with_name(warehouse.name + ".alerts.sqlite")


@dataclass(frozen=True)
class Delivery:
    idempotency_key: str
    channel: str
    tenant_id: str
    alert_id: str | None
    transition: str
    message: str
    attempts: int


@contextmanager
def open_store(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("pragma journal_mode=wal")
        con.executescript(SCHEMA)
        restrict(path)
        yield con
    finally:
        con.close()


def known_keys(con: sqlite3.Connection, channel: str) -> set[str]:
    return {row[0] for row in con.execute("select idempotency_key from deliveries where channel = ?", [channel])}


def has_baseline(con: sqlite3.Connection, tenant_id: str, history_started_at: str) -> bool:
    row = con.execute(
        "select 1 from baselines where tenant_id = ? and history_started_at = ?", [tenant_id, history_started_at]
    ).fetchone()
    return row is not None


def record_baseline(con: sqlite3.Connection, tenant_id: str, history_started_at: str, now: float) -> None:
    con.execute("insert or ignore into baselines values (?, ?, ?)", [tenant_id, history_started_at, now])


def enqueue(con: sqlite3.Connection, rows: Iterable[tuple], now: float) -> int:
    """Adds (key, channel, tenant, alert, transition, message, status) rows not already recorded; returns how many."""
    before = con.total_changes
    con.executemany(
        "insert or ignore into deliveries (idempotency_key, channel, tenant_id, alert_id, transition, message, status,"
        " next_attempt_at, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, now, now) for row in rows],
    )
    return con.total_changes - before


def due(con: sqlite3.Connection, channel: str, now: float) -> list[Delivery]:
    """The channel's pending deliveries in the order they were planned, if the oldest is due: a channel keeps its
    messages in order, so one waiting on a retry holds back only the ones after it on the same channel."""
    rows = con.execute(
        "select idempotency_key, channel, tenant_id, alert_id, transition, message, attempts, next_attempt_at"
        " from deliveries where status = 'pending' and channel = ? order by created_at, rowid",
        [channel],
    ).fetchall()
    if not rows or rows[0][7] > now:
        return []
    return [Delivery(*row[:7]) for row in rows]


def mark_sent(con: sqlite3.Connection, delivery: Delivery, now: float) -> None:
    con.execute(
        "update deliveries set status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = null"
        " where idempotency_key = ? and channel = ?",
        [now, delivery.idempotency_key, delivery.channel],
    )


def mark_failed(con: sqlite3.Connection, delivery: Delivery, error: str, next_attempt_at: float) -> None:
    con.execute(
        "update deliveries set attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
        " where idempotency_key = ? and channel = ?",
        [error[:500], next_attempt_at, delivery.idempotency_key, delivery.channel],
    )


def mark_rejected(con: sqlite3.Connection, delivery: Delivery, error: str) -> None:
    con.execute(
        "update deliveries set status = 'rejected', attempts = attempts + 1, last_error = ?"
        " where idempotency_key = ? and channel = ?",
        [error[:500], delivery.idempotency_key, delivery.channel],
    )


def acknowledge(con: sqlite3.Connection, alert_id: str, by: str, note: str | None, at: datetime | None = None) -> str:
    when = (at or datetime.now(UTC)).isoformat()
    con.execute("insert into acknowledgements values (?, ?, ?, ?)", [alert_id, when, by, note])
    return when


def acknowledgements(path: Path) -> list[tuple[str, datetime, str, str | None]]:
    """Every acknowledgement, for the design tables; none when the store does not exist yet."""
    if not path.is_file():
        return []
    with open_store(path) as con:
        rows = con.execute("select alert_id, acknowledged_at, acknowledged_by, note from acknowledgements").fetchall()
    return [(alert_id, datetime.fromisoformat(at), by, note) for alert_id, at, by, note in rows]
