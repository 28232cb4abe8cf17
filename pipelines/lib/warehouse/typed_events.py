"""The fields of PIM's audit events that the marts read, typed once, in the transaction that lands them.

The raw table keeps every record's JSON whole; its companion ``raw.<table>_typed`` holds one row per stored record
with the fields below already parsed. Typing at landing parses each event once, when its load commits: typing in
dbt parsed the whole log again on every full build, and at 34M events that parse and its copy were a third of
the build (docs/benchmarks.md). The staging model (stg_graph__directory_audits) is a view over the typed table.

The typing SQL is fingerprinted into the typed table's comment. A release that types differently finds a
different fingerprint and types every stored record again, in one transaction, from the raw JSON that is still
there: nothing is lost, and no warehouse keeps fields typed by an older rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from pipelines.lib.warehouse.quarantine import strict_instant_sql


@dataclass(frozen=True)
class TypedEvents:
    raw_table: str
    # The structure json_transform parses each `record` into, `fields`: only these fields are read.
    struct_schema: str
    # The typed columns, as a SELECT list over `fields`.
    columns: str

    @property
    def typed_table(self) -> str:
        return f"{self.raw_table}_typed"

    def select_sql(self, where: str) -> str:
        """The typed rows of the raw records matching ``where`` (a condition on the raw table's columns)."""
        return f"""select tenant_id, load_id, id, {self.columns}
            from (
                select tenant_id, load_id, id, json_transform(record, '{self.struct_schema}') as fields
                from raw.{self.raw_table}
                where {where}
            )"""

    @property
    def fingerprint(self) -> str:
        return "pimlens typing " + hashlib.sha256(self.select_sql("").encode()).hexdigest()[:16]


# One json_transform parses the record once into a struct: every `->>` would parse it again. Fields of other types
# read as null, and so does a time that does not parse or names no zone (never read in the host's zone): a malformed
# event must never stop its load from landing. Landing quarantines such an event before it is typed (quarantine.py).
# Targets and details are lists whose order Microsoft does not promise: each is picked by its type or key.
# StartTime / ExpirationTime are the requested span on a request event, the granted one on a completed event.
DIRECTORY_AUDITS = TypedEvents(
    raw_table="directory_audits",
    struct_schema="""{
        "activityDisplayName": "VARCHAR",
        "activityDateTime": "VARCHAR",
        "result": "VARCHAR",
        "initiatedBy": {"user": {"id": "VARCHAR"}},
        "targetResources": [{"id": "VARCHAR", "type": "VARCHAR"}],
        "additionalDetails": [{"key": "VARCHAR", "value": "VARCHAR"}]
    }""",
    columns=f"""
        fields.activityDisplayName as activity_display_name,
        {strict_instant_sql("fields.activityDateTime")} as activity_at,
        fields.result as result,
        fields.initiatedBy.user.id as initiated_by_user_id,
        list_filter(fields.targetResources, lambda target: target.type = 'Role')[1].id as role_definition_id,
        list_filter(
            fields.targetResources, lambda target: target.type in ('User', 'Group', 'ServicePrincipal')
        )[1].id as principal_id,
        list_filter(fields.additionalDetails, lambda detail: detail.key = 'RequestId')[1].value as request_id,
        list_filter(fields.additionalDetails, lambda detail: detail.key = 'Justification')[1].value as justification,
        try_cast(list_filter(
            fields.additionalDetails, lambda detail: detail.key = 'StartTime'
        )[1].value as timestamptz) as schedule_start_at,
        try_cast(list_filter(
            fields.additionalDetails, lambda detail: detail.key = 'ExpirationTime'
        )[1].value as timestamptz) as schedule_end_at""",
)

TYPED_EVENTS = {typed.raw_table: typed for typed in (DIRECTORY_AUDITS,)}
# The companions are not collections: whatever counts or lists the collections' raw tables leaves these out.
TYPED_TABLES = frozenset(typed.typed_table for typed in TYPED_EVENTS.values())


def ensure_typed_table(con: duckdb.DuckDBPyConnection, raw_table: str) -> None:
    """Creates ``raw_table``'s typed companion, or types every stored record again if the typing rule changed.

    Needs the raw table. Does nothing for a table without typed fields. Runs in its own transaction, so call it
    outside one.
    """
    typed = TYPED_EVENTS.get(raw_table)
    if typed is None:
        return
    stored = con.execute(
        "select comment from duckdb_tables() where schema_name = 'raw' and table_name = ?", [typed.typed_table]
    ).fetchone()
    if stored is not None and stored[0] == typed.fingerprint:
        return
    con.execute("begin transaction")
    try:
        con.execute(f"drop table if exists raw.{typed.typed_table}")
        con.execute(f"create table raw.{typed.typed_table} as {typed.select_sql('true')}")
        con.execute(f"comment on table raw.{typed.typed_table} is '{typed.fingerprint}'")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ensure_typed_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every typed companion whose raw table exists: before a build, for a warehouse that has landed nothing since
    an upgrade."""
    landed = {
        row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    for raw_table in TYPED_EVENTS.keys() & landed:
        ensure_typed_table(con, raw_table)


def type_load(con: duckdb.DuckDBPyConnection, raw_table: str, load_id: str) -> None:
    """Types the records one load added to ``raw_table``; call it in the transaction that inserted them."""
    typed = TYPED_EVENTS.get(raw_table)
    if typed is not None:
        con.execute(f"insert into raw.{typed.typed_table} {typed.select_sql('load_id = ?')}", [load_id])
