"""``pimlens reread-events``: read again the event windows whose events were set aside, once the source is fixed.

An event stream is read from its watermark on, so an event quarantined as it landed (a time without a zone, an
object where an id belongs) is not met again by later loads. Microsoft does not rewrite audit events, so pimlens
does not re-read such windows on its own: every run would read them again and set the same events aside again.
When the source was fixed (a proxy or export that mangled events), an operator asks for it once: the watermark of
each tenant's stream that still misses a set-aside event goes back to the start of the window that set the oldest
one aside (a first load, which read everything: the watermark is dropped), and the request is logged with who and
why. The next ingest reads those windows again; landing takes only the events not stored yet (the set-aside ones),
and the watermark moves forward again to the newest event read.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.lib.graph.collections import COLLECTIONS, LoadMode
from pipelines.lib.warehouse.catalog import has_table

REREADS_DDL = """create table if not exists meta.rereads (
    tenant_id varchar not null,
    collection varchar not null,
    window_start timestamptz,
    missing_events bigint not null,
    requested_by varchar not null,
    reason varchar not null,
    requested_at timestamptz not null
)"""


@dataclass(frozen=True)
class Reread:
    tenant_id: str
    collection: str
    # None: the set-aside events came with a first load, which read the whole history, so the stream is read whole.
    window_start: datetime | None
    missing_events: int


def reread_set_aside_events(con: duckdb.DuckDBPyConnection, reason: str, operator: str | None = None) -> list[Reread]:
    """Rewinds the watermark of every tenant's event stream that misses an event it set aside; returns what the
    next ingest reads again (nothing when every set-aside event has landed since)."""
    who = operator or getpass.getuser()
    rereads = []
    for spec in COLLECTIONS:
        if spec.mode is not LoadMode.INCREMENTAL:
            continue
        if not has_table(con, "raw", spec.table):
            continue
        missing = con.execute(
            f"""select set_aside.tenant_id, bool_or(loads.window_start is null), min(loads.window_start),
                count(distinct set_aside.record_id)
            from meta.quarantine as set_aside
            join meta.loads as loads on loads.load_id = set_aside.load_id
            where set_aside.collection = $collection and not exists (
                select 1 from raw.{spec.table} as stored
                where stored.tenant_id = set_aside.tenant_id and stored.id = set_aside.record_id
            )
            group by set_aside.tenant_id order by set_aside.tenant_id""",
            {"collection": spec.table},
        ).fetchall()
        for tenant_id, from_the_start, oldest_window, events in missing:
            window_start = None if from_the_start else oldest_window
            _rewind(con, tenant_id, spec.table, window_start, spec.lookback)
            con.execute(
                "insert into meta.rereads values (?, ?, ?, ?, ?, ?, now())",
                [tenant_id, spec.table, window_start, events, who, reason],
            )
            rereads.append(Reread(tenant_id, spec.table, window_start, events))
    return rereads


def _rewind(con: duckdb.DuckDBPyConnection, tenant_id: str, collection: str, window_start, lookback) -> None:
    """The next window starts at `window_start` (the ingest reads from the watermark less the look-back)."""
    if window_start is None:
        con.execute("delete from meta.watermarks where tenant_id = ? and collection = ?", [tenant_id, collection])
        return
    con.execute(
        "update meta.watermarks set watermark = least(watermark, ?) where tenant_id = ? and collection = ?",
        [window_start + lookback, tenant_id, collection],
    )
