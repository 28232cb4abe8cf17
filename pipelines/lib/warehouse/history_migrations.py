"""Migrations of the tables that keep what raw cannot give back (``meta: {keeps_history: true}`` models).

``model_upgrades`` derives an incremental model from raw again when its definition changes, except a model that
keeps history: its rows are the only record of when an alert was first seen, opened, resolved or acknowledged. When
such a model gains columns, a migration here brings a table built by an older pimlens to the new shape, deriving the
new columns from the ones kept, before dbt builds on it (dbt's ``on_schema_change='fail'`` would stop otherwise).
The transform applies them before every full build; each is applied once and recorded in ``meta.history_migrations``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

MIGRATIONS_DDL = """create table if not exists meta.history_migrations (
    migration_id varchar primary key,
    relation varchar not null,
    applied_at timestamptz not null
)"""


@dataclass(frozen=True)
class Migration:
    migration_id: str
    schema: str
    table: str
    # The column whose absence says the table predates the migration.
    marks_column: str
    statements: tuple[str, ...]

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.table}"'


MIGRATIONS: tuple[Migration, ...] = (
    # Issue 19: alerts with a lifecycle. Every kept alert is open again; the next build resolves the state alerts
    # whose condition no longer holds and closes the event alerts older than the design's max age, at that build's
    # evaluation instant. The history of a tenant starts at its first alert.
    Migration(
        migration_id="2026-12-fct-alerts-lifecycle",
        schema="marts",
        table="fct_alerts",
        marks_column="alert_kind",
        statements=(
            "alter table {relation} add column alert_kind varchar",
            "alter table {relation} add column status varchar",
            "alter table {relation} add column opened_at timestamptz",
            "alter table {relation} add column resolved_at timestamptz",
            "alter table {relation} add column resolution varchar",
            "alter table {relation} add column acknowledged_by_display_name varchar",
            "alter table {relation} add column is_suppressed boolean",
            "alter table {relation} add column suppression_reason varchar",
            "alter table {relation} add column history_started_at timestamptz",
            """update {relation} as alerts set
                alert_kind = case when alerts.event_at is null then 'state' else 'event' end,
                status = 'open',
                opened_at = alerts.first_seen_at,
                is_suppressed = false,
                history_started_at = (
                    select min(earlier.first_seen_at) from {relation} as earlier
                    where earlier.tenant_id = alerts.tenant_id
                )""",
        ),
    ),
)


def migrate_kept_histories(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Applies, each in its own transaction, the migrations whose table exists without the column they add;
    returns the ids applied. A table not built yet needs none: dbt creates it in its current shape."""
    con.execute("create schema if not exists meta")
    con.execute(MIGRATIONS_DDL)
    applied = []
    for migration in migrations:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where database_name = current_database()"
                " and schema_name = ? and table_name = ?",
                [migration.schema, migration.table],
            ).fetchall()
        }
        if not columns or migration.marks_column in columns:
            continue
        con.execute("begin")
        try:
            for statement in migration.statements:
                con.execute(statement.format(relation=migration.relation))
            con.execute(
                "insert or replace into meta.history_migrations values (?, ?, now())",
                [migration.migration_id, migration.relation],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        applied.append(migration.migration_id)
    return applied
