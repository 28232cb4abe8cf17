from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.graph.extract import DeadLetter, ExtractResult
from pipelines.lib.graph.record_file import RecordFiles, keys_path
from pipelines.lib.warehouse.landing import connect_for_landing, land_collection, land_extracted, read_watermark

AUDITS = COLLECTIONS_BY_TABLE["directory_audits"]
USERS = COLLECTIONS_BY_TABLE["users"]
STARTED = datetime(2026, 11, 1, tzinfo=UTC)


def ndjson(path: Path, records: list[dict]) -> Path:
    """The records file and its keys file, as the extractor writes them (snapshot landing ignores the keys)."""
    with RecordFiles(path, AUDITS.time_property) as writer:
        for record in records:
            writer.write(record["id"], orjson.dumps({"id": record["id"], "record": record}), record)
    return path


def land(con, spec, path: Path, load_id: str, rows: int, dead: list[DeadLetter] | None = None):
    extracted = ExtractResult(rows=rows, pages=1, dead_letters=dead or [])
    return land_collection(
        con,
        spec,
        tenant_id="t1",
        load_id=load_id,
        started_at=STARTED,
        ndjson_path=path,
        extracted=extracted,
        window_start=None,
    )


def audit(event_id: str, at: str) -> dict:
    return {"id": event_id, "activityDateTime": at, "activityDisplayName": "x", "loggedByService": "PIM"}


@pytest.fixture
def con(tmp_path: Path):
    with connect_for_landing(tmp_path / "w.duckdb") as connection:
        yield connection


def test_snapshots_are_kept_per_load_with_the_record_json(con, tmp_path: Path) -> None:
    users = [{"id": "u1", "displayName": "Ann", "extra": {"a": [1]}}, {"id": "u2"}]
    land(con, USERS, ndjson(tmp_path / "a.ndjson", users), "load-1", 2)
    land(con, USERS, ndjson(tmp_path / "b.ndjson", users[:1]), "load-2", 1)
    rows = con.execute("select load_id, id, record from raw.users order by load_id, id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("load-1", "u1"), ("load-1", "u2"), ("load-2", "u1")]
    assert orjson.loads(rows[0][2]) == users[0]
    assert con.execute("select load_id, rows_received, rows_inserted from meta.loads order by 1").fetchall() == [
        ("load-1", 2, 2),
        ("load-2", 1, 1),
    ]


def test_rerunning_an_audit_window_changes_nothing_and_the_watermark_moves_forward(con, tmp_path: Path) -> None:
    first = [audit("e1", "2026-10-01T08:00:00Z"), audit("e2", "2026-10-01T09:00:00.5Z")]
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", first), "load-1", 2)
    overlap = [
        audit("e2", "2026-10-01T09:00:00.5Z"),
        audit("e3", "2026-10-02T10:00:00Z"),
        audit("e3", "2026-10-02T10:00:00Z"),
    ]
    summary = land(con, AUDITS, ndjson(tmp_path / "b.ndjson", overlap), "load-2", 3)
    assert summary.rows_inserted == 1
    assert sorted(r[0] for r in con.execute("select id from raw.directory_audits").fetchall()) == ["e1", "e2", "e3"]
    assert read_watermark(con, "t1", "directory_audits") == datetime(2026, 10, 2, 10, tzinfo=UTC)
    again = land(con, AUDITS, ndjson(tmp_path / "c.ndjson", first), "load-3", 2)
    assert again.rows_inserted == 0
    assert read_watermark(con, "t1", "directory_audits") == datetime(2026, 10, 2, 10, tzinfo=UTC)


def test_a_failed_load_commits_nothing(con, tmp_path: Path) -> None:
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [audit("e1", "2026-10-01T08:00:00Z")]), "load-1", 1)
    broken = ndjson(tmp_path / "broken.ndjson", [audit("e9", "2026-10-09T00:00:00Z")])
    with broken.open("ab") as cut_short:
        cut_short.write(b'{"id": ')
    with pytest.raises(duckdb.Error):
        land(con, AUDITS, broken, "load-2", 2)
    assert con.execute("select count(*) from raw.directory_audits").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.directory_audits_typed").fetchone()[0] == 1
    assert con.execute("select count(*) from meta.loads").fetchone()[0] == 1
    assert read_watermark(con, "t1", "directory_audits") == datetime(2026, 10, 1, 8, tzinfo=UTC)


def test_dead_letters_land_with_the_load_that_found_them(con, tmp_path: Path) -> None:
    dead = [DeadLetter(3, "https://g/v1.0/users", "record has no string id", '{"name":"x"}')]
    land(con, USERS, ndjson(tmp_path / "a.ndjson", [{"id": "u1"}]), "load-1", 1, dead)
    assert con.execute("select load_id, collection, page_number, error, raw_text from raw.dead_letter").fetchall() == [
        ("load-1", "users", 3, "record has no string id", '{"name":"x"}')
    ]
    assert con.execute("select dead_letters from meta.loads").fetchone()[0] == 1


def test_an_id_repeated_inside_one_file_keeps_its_first_copy(con, tmp_path: Path) -> None:
    first = {**audit("e1", "2026-10-01T08:00:00Z"), "activityDisplayName": "first copy"}
    later = {**audit("e1", "2026-10-01T08:00:00Z"), "activityDisplayName": "later copy"}
    records = [first, audit("e2", "2026-10-01T09:00:00Z"), later, audit("e2", "2026-10-01T09:00:00Z")]
    summary = land(con, AUDITS, ndjson(tmp_path / "a.ndjson", records), "load-1", 4)
    assert summary.rows_inserted == 2
    stored = con.execute("select record->>'activityDisplayName' from raw.directory_audits where id = 'e1'").fetchall()
    assert stored == [("first copy",)]


def test_rerunning_an_old_window_after_newer_loads_changes_nothing(con, tmp_path: Path) -> None:
    october_1 = ndjson(tmp_path / "a.ndjson", [audit("e1", "2026-10-01T08:00:00Z")])
    land(con, AUDITS, october_1, "load-1", 1)
    land(con, AUDITS, ndjson(tmp_path / "b.ndjson", [audit("e2", "2026-10-05T08:00:00Z")]), "load-2", 1)
    assert land(con, AUDITS, october_1, "load-3", 1).rows_inserted == 0
    assert con.execute("select oldest_event, newest_event, untimed_rows from meta.event_spans").fetchall() == [
        (datetime(2026, 10, 1, 8, tzinfo=UTC), datetime(2026, 10, 1, 8, tzinfo=UTC), 0),
        (datetime(2026, 10, 5, 8, tzinfo=UTC), datetime(2026, 10, 5, 8, tzinfo=UTC), 0),
        (datetime(2026, 10, 1, 8, tzinfo=UTC), datetime(2026, 10, 1, 8, tzinfo=UTC), 0),
    ]


def test_loads_of_unknown_span_and_untimed_rows_are_compared_with_everything(con, tmp_path: Path) -> None:
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", [audit("e1", "2026-10-01T08:00:00Z")]), "load-1", 1)
    land(con, AUDITS, ndjson(tmp_path / "b.ndjson", [audit("e2", "2026-10-05T08:00:00Z")]), "load-2", 1)
    # A warehouse written before meta.event_spans existed: load-1's span is unknown, so it is still compared.
    con.execute("delete from meta.event_spans where load_id = 'load-1'")
    rerun = [audit("e1", "2026-10-01T08:00:00Z"), audit("e3", "2026-10-09T08:00:00Z")]
    assert land(con, AUDITS, ndjson(tmp_path / "c.ndjson", rerun), "load-3", 2).rows_inserted == 1
    # A row whose time does not parse could be any event: compared with every load, however old.
    untimed = [audit("e2", "not a time"), audit("e4", "2026-10-10T08:00:00Z")]
    assert land(con, AUDITS, ndjson(tmp_path / "d.ndjson", untimed), "load-4", 2).rows_inserted == 1
    ids = sorted(r[0] for r in con.execute("select id from raw.directory_audits").fetchall())
    assert ids == ["e1", "e2", "e3", "e4"]
    assert con.execute("select untimed_rows from meta.event_spans where load_id = 'load-4'").fetchone()[0] == 1


def test_an_event_stream_without_its_keys_file_is_refused_naming_the_file(con, tmp_path: Path) -> None:
    records = ndjson(tmp_path / "a.ndjson", [audit("e1", "2026-10-01T08:00:00Z")])
    keys_path(records).unlink()
    with pytest.raises(FileNotFoundError, match=r"a\.ndjson\.keys"):
        land(con, AUDITS, records, "load-1", 1)
    assert con.execute("select count(*) from meta.loads").fetchone()[0] == 0


def test_a_rerun_overlapping_stored_events_and_repeating_ids_inserts_each_new_id_once(con, tmp_path: Path) -> None:
    stored = [audit(f"e{n}", f"2026-10-01T{n:02}:00:00Z") for n in range(10)]
    land(con, AUDITS, ndjson(tmp_path / "a.ndjson", stored), "load-1", 10)
    # The second read overlaps e5..e9, and repeats e12 (first copy kept) and the stored e7.
    first_e12 = {**audit("e12", "2026-10-01T12:00:00Z"), "activityDisplayName": "first copy"}
    later_e12 = {**first_e12, "activityDisplayName": "later copy"}
    rerun = [*stored[5:], audit("e10", "2026-10-01T10:00:00Z"), first_e12, stored[7], later_e12]
    rerun.append(audit("e11", "2026-10-01T11:00:00Z"))
    summary = land(con, AUDITS, ndjson(tmp_path / "b.ndjson", rerun), "load-2", len(rerun))
    assert summary.rows_inserted == 3
    new = con.execute(
        "select id, record->>'activityDisplayName' from raw.directory_audits where load_id = 'load-2' order by id"
    ).fetchall()
    assert new == [("e10", "x"), ("e11", "x"), ("e12", "first copy")]
    leftover = "select count(*) from duckdb_tables() where table_name = 'landing_skipped_lines'"
    assert con.execute(leftover).fetchone() == (0,)


def test_a_rerun_of_many_stored_events_lands_nothing_within_the_memory_limit(con, tmp_path: Path) -> None:
    # Big enough that the JSON scan fills its buffers: a hash table of the 100k skipped lines beside that scan ran
    # out of memory under the 64 MB pool; the bitstring of skipped lines does not.
    details = [{"key": f"detail{n}", "value": "v" * 40} for n in range(20)]
    events = [audit(f"e{n:06}", f"2026-10-{1 + n // 5000:02}T08:00:00Z") | {"details": details} for n in range(100_000)]
    path = ndjson(tmp_path / "big.ndjson", events)
    assert land(con, AUDITS, path, "load-1", len(events)).rows_inserted == len(events)
    assert land(con, AUDITS, path, "load-2", len(events)).rows_inserted == 0
    one_new = [*events[:-1], audit("e-new", "2026-10-21T09:00:00Z")]
    assert land(con, AUDITS, ndjson(tmp_path / "one.ndjson", one_new), "load-3", len(one_new)).rows_inserted == 1
    assert con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone() == (100_001, 100_001)


def test_the_rows_committed_before_an_event_stream_are_written_out_before_it_lands(con, tmp_path: Path) -> None:
    """Committed rows stay in the buffer pool until DuckDB checkpoints; an event stream's JSON scan needs that pool,
    so they are written to the file first (a small tenant's workspace audit log ran out of the 64 MB pool behind
    them). A snapshot's landing leaves them where they are."""

    def segments_in_memory(table: str) -> int:
        query = f"select count(*) filter (where not persistent) from pragma_storage_info('raw.{table}')"
        return con.execute(query).fetchone()[0]

    def land_file(spec, name: str, records: list[dict]) -> None:
        extracted = ExtractResult(rows=len(records), pages=1)
        path = ndjson(tmp_path / f"{name}.ndjson", records)
        land_extracted(
            con,
            spec,
            tenant_id="t1",
            load_id=name,
            started_at=STARTED,
            ndjson_path=path,
            extracted=extracted,
            window_start=None,
        )

    land_file(USERS, "users-1", [{"id": f"u{n}", "displayName": "x" * 200} for n in range(5_000)])
    land_file(USERS, "users-2", [{"id": "u1"}])
    assert segments_in_memory("users") > 0
    land_file(AUDITS, "audits-1", [audit("e1", "2026-10-01T08:00:00Z")])
    assert segments_in_memory("users") == 0
    assert con.execute("select count(*) from raw.users").fetchone()[0] == 5_001


def test_a_file_too_big_for_the_small_pool_is_landed_again_in_a_larger_one(tmp_path: Path, caplog) -> None:
    # Records that each hold one long string need more of the JSON scan than the 64 MB pool gives (measured: 72 MB).
    padding = "x" * 1400
    events = [audit(f"e{n:06}", f"2026-10-{1 + n // 3000:02}T08:00:00Z") | {"padding": padding} for n in range(60_000)]
    path = ndjson(tmp_path / "long-strings.ndjson", events)
    warehouse = tmp_path / "w.duckdb"
    extracted = ExtractResult(rows=len(events), pages=1)
    landing = {"tenant_id": "t1", "started_at": STARTED, "ndjson_path": path, "extracted": extracted}
    pool = "select current_setting('memory_limit')"
    with connect_for_landing(warehouse) as con:
        small_pool = con.execute(pool).fetchone()[0]
        summary = land_extracted(con, AUDITS, load_id="load-1", window_start=None, **landing)
        # The pool is back to its size for the next collection on the connection.
        assert con.execute(pool).fetchone()[0] == small_pool
    assert summary.rows_inserted == len(events)
    assert "ran out of memory within 64MB" in caplog.text
    with duckdb.connect(str(warehouse)) as con:
        # The failed attempt left nothing behind: one load, each event once.
        assert con.execute("select count(*) from meta.loads").fetchone()[0] == 1
        counts = con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone()
        assert counts == (60_000, 60_000)
