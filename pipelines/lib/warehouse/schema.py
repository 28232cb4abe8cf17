"""DDL of the tables the extractor owns: raw landing tables and the load manifest.

Raw tables keep each record's full JSON untouched, with the tenant it came from and the load that wrote it;
typing happens later, in dbt, so a field Graph adds tomorrow is already stored today. The one exception is the
PIM audit log, the largest by far: the fields the marts read are also typed as it lands (typed_events.py).
"""

from __future__ import annotations

import hashlib

import duckdb

from pipelines.lib.warehouse.quarantine import QUARANTINE_DDL, SET_ASIDE_VIEW
from pipelines.lib.warehouse.rereads import REREADS_DDL
from pipelines.lib.warehouse.typed_events import ensure_typed_table
from pipelines.lib.warehouse.verdicts import GATE_VERDICTS_DDL, HELD_LOADS_VIEW

META_DDL = (
    "create schema if not exists raw",
    "create schema if not exists meta",
    """create table if not exists meta.loads (
        load_id varchar primary key,
        tenant_id varchar not null,
        collection varchar not null,
        mode varchar not null,
        started_at timestamptz not null,
        committed_at timestamptz not null,
        rows_received bigint not null,
        rows_inserted bigint not null,
        pages bigint not null,
        restarts bigint not null,
        dead_letters bigint not null,
        window_start timestamptz,
        source_path varchar not null
    )""",
    """create table if not exists meta.watermarks (
        tenant_id varchar not null,
        collection varchar not null,
        watermark timestamptz not null,
        load_id varchar not null,
        primary key (tenant_id, collection)
    )""",
    # What each run could read: a surface that answered 403 is recorded here, and every metric that depends on
    # it reads as unknown instead of as zero.
    """create table if not exists meta.coverage (
        tenant_id varchar not null,
        collection varchar not null,
        checked_at timestamptz not null,
        status varchar not null,
        http_status integer,
        error_code varchar,
        permission varchar not null,
        rows_received bigint not null,
        pages bigint not null,
        requests bigint not null,
        throttled bigint not null,
        load_id varchar
    )""",
    # The span of event times each incremental load read, so the next load compares its look-back overlap with
    # only the loads that reach into it, not with every event ever stored. A load with untimed rows (a time that
    # does not parse) could overlap anything and is always compared; so is a load written before this table.
    """create table if not exists meta.event_spans (
        load_id varchar primary key,
        tenant_id varchar not null,
        collection varchar not null,
        oldest_event timestamptz,
        newest_event timestamptz,
        untimed_rows bigint not null
    )""",
    """create table if not exists raw.dead_letter (
        tenant_id varchar not null,
        load_id varchar not null,
        collection varchar not null,
        page_number bigint not null,
        source_path varchar not null,
        error varchar not null,
        raw_text varchar not null,
        loaded_at timestamptz not null
    )""",
    # Records set aside as they landed, each with the field and the rule it broke (quarantine.py).
    QUARANTINE_DDL,
    # Each blocking raw gate's verdict per tenant and load; a blocked load stays out of the marts (verdicts.py).
    GATE_VERDICTS_DDL,
    # Each operator's request to read set-aside events again (rereads.py).
    REREADS_DDL,
)
# Rules that the run's own code and the dbt models both read, kept once as views.
META_VIEWS = {"set_aside": SET_ASIDE_VIEW, "held_loads": HELD_LOADS_VIEW}


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    for statement in META_DDL:
        con.execute(statement)
    for name, query in META_VIEWS.items():
        _ensure_view(con, name, query)


def _ensure_view(con: duckdb.DuckDBPyConnection, name: str, query: str) -> None:
    """Creates or replaces the view ``meta.<name>`` when its definition changed (its digest is the view's comment),
    so that the many calls that only make sure it exists change no catalog."""
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]
    current = con.execute(
        "select comment from duckdb_views() where database_name = current_database() and schema_name = 'meta' "
        "and view_name = ?",
        [name],
    ).fetchone()
    if current is None or current[0] != digest:
        con.execute(f"create or replace view meta.{name} as {query}")
        con.execute(f"comment on view meta.{name} is '{digest}'")


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The raw table of a collection; ``parent_key`` names the parent row a nested collection was read under."""
    ensure_meta(con)
    con.execute(
        f"""create table if not exists raw.{table} (
            tenant_id varchar not null,
            load_id varchar not null,
            loaded_at timestamptz not null,
            id varchar not null,
            record json not null,
            parent_key varchar
        )"""
    )
    ensure_typed_table(con, table)
