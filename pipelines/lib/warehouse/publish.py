"""Publishes the marts to the analytics database: the file analysts, notebooks and BI tools open.

DuckDB admits one writer per file, and a reader blocks it: an analyst on the warehouse itself would stop the next
refresh. So after each successful transform every table of the ``marts`` schema (facts and the dimensions they
join to) is copied into a new DuckDB file beside the analytics file, flushed to disk, and renamed over it. An
analyst's open connection keeps reading the previous file until it reconnects; one opening the file sees the
previous publication or the new one, never a mix, and never blocks the pipeline, which only ever renames.

With the ``pseudonymise`` option the personal columns are published as keyed pseudonyms (privacy.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import progress
from pipelines.lib.files import replace_file
from pipelines.lib.privacy import Pseudonymiser, select_expression

ANALYTICS_FILE_NAME = "analytics.duckdb"
_ATTACHED = "analytics_next"


class PublishFailed(RuntimeError):
    """The analytics database could not be written; the previous one is still in place."""


@dataclass(frozen=True)
class PublishedTable:
    table: str
    rows: int


def analytics_path(warehouse: Path) -> Path:
    """Where the analytics database of `warehouse` is published: beside it."""
    return warehouse.with_name(ANALYTICS_FILE_NAME)


def mart_columns(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, list[tuple[str, str]]]:
    """Every table of `schema` with its (column, DuckDB type) pairs, in column order."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        """select table_name, column_name, data_type from information_schema.columns
        where table_catalog = current_database() and table_schema = ? order by table_name, ordinal_position""",
        [schema],
    ).fetchall():
        columns.setdefault(table, []).append((column, data_type))
    return columns


@dataclass(frozen=True)
class TableDocs:
    """A mart's description and its columns', as dbt persisted them to DuckDB comments (persist_docs)."""

    description: str | None
    columns: dict[str, str | None]


def mart_docs(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, TableDocs]:
    """Every table and view of `schema` with the comments dbt wrote from the YAML's descriptions; None where there
    is none."""
    docs = {
        table: TableDocs(_text(comment), {})
        for table, comment in con.execute(
            """select table_name, comment from duckdb_tables() where database_name = current_database()
                and schema_name = $schema
            union all
            select view_name, comment from duckdb_views() where database_name = current_database()
                and schema_name = $schema""",
            {"schema": schema},
        ).fetchall()
    }
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? order by table_name, column_index",
        [schema],
    ).fetchall():
        if table in docs:
            docs[table].columns[column] = _text(comment)
    return docs


def _text(comment: str | None) -> str | None:
    """A comment as text, None for none; dbt keeps the newline that ends a folded YAML description."""
    return (comment or "").strip() or None


def publish_analytics(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    *,
    schema: str = "marts",
    pseudonymiser: Pseudonymiser | None = None,
) -> list[PublishedTable]:
    """Copies every table of `schema` from the warehouse `con` is open on into a fresh `target`, atomically."""
    staged = target.with_name(target.name + ".next")
    for leftover in (staged, staged.with_name(staged.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if pseudonymiser is not None:
        pseudonymiser.register(con)
    tables = mart_columns(con, schema)
    docs = mart_docs(con, schema)
    published = []
    if (tracker := progress.current()) is not None:
        tracker.total = len(tables)
    con.execute(f"attach '{_literal(staged)}' as {_ATTACHED} (read_write)")
    try:
        con.execute(f"create schema {_ATTACHED}.{schema}")
        for table, columns in tables.items():
            select = ", ".join(
                f"{select_expression(name, _quote(name), data_type, pseudonymiser)} as {_quote(name)}"
                for name, data_type in columns
            )
            con.execute(
                f"create table {_ATTACHED}.{schema}.{_quote(table)} as select {select} from {schema}.{_quote(table)}"
            )
            _comment(con, f"{_ATTACHED}.{schema}.{_quote(table)}", docs[table])
            rows = con.execute(f"select count(*) from {_ATTACHED}.{schema}.{_quote(table)}").fetchone()[0]
            published.append(PublishedTable(table, rows))
            if tracker is not None:
                tracker.advance(table)
        con.execute(f"create schema {_ATTACHED}.meta")
        con.execute(
            f"create table {_ATTACHED}.meta.publication as select ?::timestamptz as published_at, "
            "?::boolean as is_pseudonymised, ?::integer as tables",
            [datetime.now(UTC), pseudonymiser is not None, len(published)],
        )
        con.execute(f"checkpoint {_ATTACHED}")
        con.execute(f"detach {_ATTACHED}")
        replace_file(staged, target)
    except (duckdb.Error, OSError) as error:
        _discard(con, staged)
        reason = str(error).splitlines()[0]
        raise PublishFailed(f"publishing {target} failed ({reason}); analysts keep the previous file") from error
    return published


def _discard(con: duckdb.DuckDBPyConnection, staged: Path) -> None:
    with contextlib.suppress(duckdb.Error):
        con.execute(f"detach database if exists {_ATTACHED}")
    for leftover in (staged, staged.with_name(staged.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _comment(con: duckdb.DuckDBPyConnection, relation: str, docs: TableDocs) -> None:
    """The warehouse's comments on a mart, on its published copy: analysts read the descriptions where they query."""
    if docs.description:
        con.execute(f"comment on table {relation} is '{_literal(docs.description)}'")
    for column, description in docs.columns.items():
        if description:
            con.execute(f"comment on column {relation}.{_quote(column)} is '{_literal(description)}'")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: Path | str) -> str:
    """`text` inside a DuckDB string literal: a quote written twice."""
    return str(text).replace("'", "''")
