"""DDL of the tables the extractor owns: raw landing tables and the load manifest.

Raw tables keep each record's full JSON untouched, with the tenant it came from and the load that wrote it;
typing happens later, in dbt, so a field Graph adds tomorrow is already stored today. The one exception is the
PIM audit log, the largest by far: the fields the marts read are also typed as it lands (typed_events.py).
"""

from __future__ import annotations

import duckdb

from pipelines.lib.warehouse.quarantine import QUARANTINE_DDL
from pipelines.lib.warehouse.typed_events import ensure_typed_table
from pipelines.lib.warehouse.verdicts import GATE_VERDICTS_DDL

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
)


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    for statement in META_DDL:
        con.execute(statement)


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
