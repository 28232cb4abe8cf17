"""The Parquet export Power BI reads: every mart, in types its Parquet connector reads as meant, swapped in whole."""

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.export import UnexportableColumn, export_marts


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute(
        """create table marts.fct_mixed as select
            timestamptz '2026-06-01 09:30:00+02' as happened_at,
            cast(12345678901234567 as hugeint) as big_sum,
            cast(7 as ubigint) as unsigned_count,
            cast('1.25' as decimal(9, 2)) as money,
            uuid '00000000-0000-0000-0000-000000000001' as object_id,
            interval 90 minute as took,
            ['a', 'b'] as tags,
            {'k': 1} as detail,
            date '2026-06-01' as day,
            'text' as name,
            true as flag"""
    )
    con.execute("create table marts.dim_empty (id varchar)")
    return con


def parquet_columns(file: Path) -> dict[str, tuple[str, str | None]]:
    """Each column's physical Parquet type and its logical type, as Power BI's connector sees them."""
    with duckdb.connect() as con:
        rows = con.execute(
            "select name, type, logical_type from parquet_schema(?) where type is not null", [str(file)]
        ).fetchall()
    return {name: (physical, logical) for name, physical, logical in rows}


def test_every_mart_is_exported_in_power_bi_safe_types_with_its_values(warehouse, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    exported = {item.table: item for item in export_marts(warehouse, out)}

    assert set(exported) == {"fct_mixed", "dim_empty"} and exported["dim_empty"].rows == 0
    file = out / "fct_mixed.parquet"
    columns = parquet_columns(file)
    assert "isAdjustedToUTC=0" in columns["happened_at"][1]  # naive, UTC by convention: not tz-aware
    assert columns["big_sum"][0] == columns["unsigned_count"][0] == "INT64"  # DuckDB writes hugeint as a double
    assert columns["money"][0] == columns["took"][0] == "DOUBLE"
    assert all(columns[name][0] == "BYTE_ARRAY" for name in ("object_id", "tags", "detail", "name"))
    with duckdb.connect() as con:
        [row] = con.execute(
            "select cast(happened_at as varchar), big_sum, unsigned_count, money, object_id, took, tags, detail, "
            "day, name, flag from read_parquet(?)",
            [str(file)],
        ).fetchall()
    happened_at, big_sum, unsigned_count, money, object_id, took, tags, detail, *rest = row
    assert happened_at == "2026-06-01 07:30:00"
    assert (big_sum, unsigned_count, money, took) == (12345678901234567, 7, 1.25, 5400.0)
    assert object_id == "00000000-0000-0000-0000-000000000001"
    assert json.loads(tags) == ["a", "b"] and json.loads(detail) == {"k": 1}
    assert [str(rest[0]), *rest[1:]] == ["2026-06-01", "text", True]


def test_the_manifest_lists_rows_and_exported_types_and_a_new_export_replaces_the_old_whole(
    warehouse, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    export_marts(warehouse, out)
    (out / "stale.parquet").write_bytes(b"from an older export")
    warehouse.execute("drop table marts.dim_empty")
    export_marts(warehouse, out)

    assert sorted(path.name for path in out.iterdir()) == ["_manifest.json", "fct_mixed.parquet"]
    assert not (tmp_path / "exports.next").exists() and not (tmp_path / "exports.previous").exists()
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["fct_mixed"]["rows"] == 1
    assert manifest["tables"]["fct_mixed"]["columns"]["happened_at"] == "TIMESTAMP"
    assert manifest["tables"]["fct_mixed"]["columns"]["big_sum"] == "BIGINT"


def test_a_column_with_no_safe_form_stops_the_export_naming_it_and_keeps_the_last_export(
    warehouse, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    export_marts(warehouse, out)
    warehouse.execute("create table marts.fct_blob as select 'x'::blob as payload")

    with pytest.raises(UnexportableColumn, match=r"marts\.fct_blob: column payload has type BLOB"):
        export_marts(warehouse, out)
    assert (out / "fct_mixed.parquet").exists() and not (out / "fct_blob.parquet").exists()
