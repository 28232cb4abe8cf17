"""The marts' descriptions, which dbt persists as DuckDB comments, travel with what analysts read: the analytics
database keeps them as its own comments, and the Parquet export's manifest lists them."""

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.export import export_marts
from pipelines.lib.warehouse.publish import publish_analytics


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.fct_things as select 1 as thing_id, 'x' as owner_name, 2.5 as weight_kg")
    con.execute("comment on table marts.fct_things is 'One row per thing, as the owner''s register lists it.'")
    con.execute("comment on column marts.fct_things.thing_id is 'Key.'")
    con.execute("comment on column marts.fct_things.weight_kg is 'Its weight in kilograms; null when unweighed.'")
    con.execute("create table marts.dim_undescribed (id varchar)")
    # A mart materialized as a view is published and exported as a table, its descriptions with it.
    con.execute("create view marts.fct_things_view as select thing_id from marts.fct_things")
    con.execute("comment on view marts.fct_things_view is 'The things, by view.'")
    con.execute("comment on column marts.fct_things_view.thing_id is 'Key, again.'")
    return con


def test_the_analytics_database_keeps_every_description_as_its_own_comment(warehouse, tmp_path: Path) -> None:
    target = tmp_path / "analytics.duckdb"
    publish_analytics(warehouse, target)

    with duckdb.connect(str(target), read_only=True) as con:
        tables = dict(
            con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        columns = {
            (table, column): comment
            for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        }
    assert tables == {
        "fct_things": "One row per thing, as the owner's register lists it.",
        "dim_undescribed": None,
        "fct_things_view": "The things, by view.",
    }
    assert columns == {
        ("fct_things_view", "thing_id"): "Key, again.",
        ("fct_things", "thing_id"): "Key.",
        ("fct_things", "owner_name"): None,
        ("fct_things", "weight_kg"): "Its weight in kilograms; null when unweighed.",
        ("dim_undescribed", "id"): None,
    }


def test_the_export_manifest_lists_each_marts_description_and_its_columns(warehouse, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    export_marts(warehouse, out)

    tables = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["tables"]
    assert tables["fct_things"]["description"] == "One row per thing, as the owner's register lists it."
    assert tables["fct_things"]["column_descriptions"] == {
        "thing_id": "Key.",
        "owner_name": None,
        "weight_kg": "Its weight in kilograms; null when unweighed.",
    }
    assert tables["dim_undescribed"]["description"] is None
    assert tables["dim_undescribed"]["column_descriptions"] == {"id": None}
    assert tables["fct_things_view"]["description"] == "The things, by view."
    assert tables["fct_things_view"]["column_descriptions"] == {"thing_id": "Key, again."}
