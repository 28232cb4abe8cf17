import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from pipelines.lib.graph.extract import extract_collection, extract_fan_out
from pipelines.lib.graph.record_file import BufferedRecords, RecordFiles, RecordWriter, event_text, keys_path
from pipelines.lib.graph.transport import GraphHTTPError

from .fakes import ScriptedTransport, page

FIRST = "https://g/v1.0/auditLogs/directoryAudits"
SECOND = FIRST + "?$skiptoken=2"


def keys_in(records_path: Path) -> list[dict]:
    return [orjson.loads(line) for line in keys_path(records_path).read_bytes().splitlines()]


@pytest.mark.parametrize(
    ("value", "text"),
    [("2026-10-01T08:00:00Z", "2026-10-01T08:00:00Z"), (None, None), (17, "17"), ({"a": [1]}, '{"a":[1]}')],
)
def test_event_text_is_what_duckdb_extracts_from_the_record(value, text) -> None:
    assert event_text(value) == text
    with duckdb.connect() as con:
        extracted = con.execute("select (?::json)->>'t'", [orjson.dumps({"t": value}).decode()]).fetchone()[0]
    assert extracted == text


def test_keys_number_the_records_lines_from_one_and_a_reset_forgets_both_files() -> None:
    records, keys = io.BytesIO(), io.BytesIO()
    writer = RecordWriter(records, keys, "at")
    writer.write("gone", b'{"id":"gone"}', {"at": "2026-01-01T00:00:00Z"})
    writer.reset()
    writer.write("a", b'{"id":"a"}', {"at": "2026-10-01T08:00:00Z"})
    writer.write('b, "quoted"\nid', b'{"id":"b"}', {})
    assert records.getvalue() == b'{"id":"a"}\n{"id":"b"}\n'
    assert [orjson.loads(line) for line in keys.getvalue().splitlines()] == [
        {"line": 1, "id": "a", "event_at": "2026-10-01T08:00:00Z"},
        {"line": 2, "id": 'b, "quoted"\nid', "event_at": None},
    ]


def test_a_keys_file_and_a_time_property_come_together() -> None:
    with pytest.raises(ValueError, match="time property"):
        RecordWriter(io.BytesIO(), io.BytesIO(), None)
    with pytest.raises(ValueError, match="keys file"):
        RecordWriter(io.BytesIO(), None, "at")


def test_a_snapshot_gets_no_keys_file(tmp_path: Path) -> None:
    with RecordFiles(tmp_path / "users.ndjson") as writer:
        writer.write("u1", b'{"id":"u1"}', {"id": "u1"})
    assert (tmp_path / "users.ndjson").read_bytes() == b'{"id":"u1"}\n'
    assert not keys_path(tmp_path / "users.ndjson").exists()


def test_buffered_parents_are_numbered_in_the_order_they_reach_the_shared_file() -> None:
    records, keys = io.BytesIO(), io.BytesIO()
    writer = RecordWriter(records, keys, "at")
    second, first = BufferedRecords("at"), BufferedRecords("at")
    second.write("s1", b"s1", {"at": "2026-10-02T00:00:00Z"})
    first.write("f1", b"f1", {"at": "2026-10-01T00:00:00Z"})
    first.write("f2", b"f2", {"at": 5})
    first.write_to(writer)
    second.write_to(writer)
    assert records.getvalue() == b"f1\nf2\ns1\n"
    assert [(k["line"], k["id"], k["event_at"]) for k in map(orjson.loads, keys.getvalue().splitlines())] == [
        (1, "f1", "2026-10-01T00:00:00Z"),
        (2, "f2", "5"),
        (3, "s1", "2026-10-02T00:00:00Z"),
    ]


def test_an_extracted_event_stream_keys_every_record_once_even_after_a_restart(tmp_path: Path) -> None:
    expired = GraphHTTPError(400, "Directory_ExpiredPageToken", "expired", SECOND)
    a = {"id": "a", "activityDateTime": "2026-10-01T08:00:00Z"}
    b = {"id": "b", "activityDateTime": "2026-10-01T09:00:00.5Z"}
    transport = ScriptedTransport({FIRST: [page([a], SECOND)], SECOND: [expired, page([b, "not an object"])]})
    out = tmp_path / "audits.ndjson"
    result = asyncio.run(extract_collection(transport, [FIRST], out, time_property="activityDateTime"))  # type: ignore[arg-type]
    assert (result.rows, result.restarts, len(result.dead_letters)) == (2, 1, 1)
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == ["a", "b"]
    assert keys_in(out) == [
        {"line": 1, "id": "a", "event_at": "2026-10-01T08:00:00Z"},
        {"line": 2, "id": "b", "event_at": "2026-10-01T09:00:00.5Z"},
    ]
    # The keys' times are the text DuckDB casts, as it would from the records.
    spans = duckdb.sql(
        f"select try_cast(event_at as timestamptz) from read_json('{keys_path(out)}') order by line"
    ).fetchall()
    assert spans[1][0] == datetime(2026, 10, 1, 9, 0, 0, 500000, tzinfo=UTC)


def test_two_filtered_reads_land_in_one_file_and_a_restart_of_the_second_keeps_the_first(tmp_path: Path) -> None:
    """A collection read with one filter per service (the audit log's PIM and Access Reviews): the second read's
    restart throws away only its own lines, and the keys number both reads' lines as one file."""
    pim, reviews, reviews_next = FIRST, FIRST + "&service=reviews", FIRST + "&service=reviews&$skiptoken=2"
    expired = GraphHTTPError(400, "Directory_ExpiredPageToken", "expired", reviews_next)
    a = {"id": "a", "activityDateTime": "2026-10-01T08:00:00Z"}
    b = {"id": "b", "activityDateTime": "2026-10-01T09:00:00Z"}
    c = {"id": "c", "activityDateTime": "2026-10-01T10:00:00Z"}
    transport = ScriptedTransport(
        {
            pim: [page([a])],
            reviews: [page([b], reviews_next), page([b], reviews_next)],
            reviews_next: [expired, page([c])],
        }
    )
    out = tmp_path / "audits.ndjson"
    result = asyncio.run(extract_collection(transport, [pim, reviews], out, time_property="activityDateTime"))  # type: ignore[arg-type]
    assert (result.rows, result.restarts) == (3, 1)
    assert [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()] == ["a", "b", "c"]
    assert [(key["line"], key["id"]) for key in keys_in(out)] == [(1, "a"), (2, "b"), (3, "c")]


def test_a_fan_out_event_stream_keys_its_lines_in_file_order(tmp_path: Path) -> None:
    g1, g2 = "https://g/v1.0/x/g1/events", "https://g/v1.0/x/g2/events"
    transport = ScriptedTransport(
        {
            g1: [page([{"id": "e1", "at": "2026-10-01T00:00:00Z"}, {"id": "e2", "at": "2026-10-02T00:00:00Z"}])],
            g2: [page([{"id": "e3"}])],
        }
    )
    out = tmp_path / "events.ndjson"
    asyncio.run(extract_fan_out(transport, [("g1", g1), ("g2", g2)], out, time_property="at"))  # type: ignore[arg-type]
    lines = [orjson.loads(line)["id"] for line in out.read_bytes().splitlines()]
    assert [(key["line"], key["id"]) for key in keys_in(out)] == list(enumerate(lines, start=1))
    assert {key["id"]: key["event_at"] for key in keys_in(out)} == {
        "e1": "2026-10-01T00:00:00Z",
        "e2": "2026-10-02T00:00:00Z",
        "e3": None,
    }
