"""What the warehouse's catalog holds: a module of its own, so that the modules which make the schema can ask too."""

from __future__ import annotations

import duckdb


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the warehouse has ``schema.table`` (a table or a view), e.g. a raw table no load has created yet."""
    return bool(
        con.execute(
            """select count(*) from information_schema.tables
            where table_catalog = current_database() and table_schema = ? and table_name = ?""",
            [schema, table],
        ).fetchone()[0]
    )
