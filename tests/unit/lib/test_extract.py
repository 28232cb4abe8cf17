import asyncio
from pathlib import Path

import orjson
import pytest

from pipelines.lib.graph.extract import MAX_RESTARTS, CollectionRestart, extract_collection
from pipelines.lib.graph.transport import GraphHTTPError, TransientError

from .fakes import ScriptedTransport, page

FIRST = "https://g/v1.0/users"
SECOND = "https://g/v1.0/users?$skiptoken=2"
THIRD = "https://g/v1.0/users?$skiptoken=3"


def run(transport: ScriptedTransport, out: Path):
    return asyncio.run(extract_collection(transport, [FIRST], out))  # type: ignore[arg-type]


def ids_in(path: Path) -> list[str]:
    return [orjson.loads(line)["id"] for line in path.read_bytes().splitlines()]


def test_follows_next_links_including_empty_pages(tmp_path: Path) -> None:
    transport = ScriptedTransport(
        {FIRST: [page([{"id": "a"}], SECOND)], SECOND: [page([], THIRD)], THIRD: [page([{"id": "b"}, {"id": "c"}])]}
    )
    result = run(transport, tmp_path / "out.ndjson")
    assert (result.rows, result.pages, result.restarts) == (3, 3, 0)
    assert ids_in(tmp_path / "out.ndjson") == ["a", "b", "c"]


def test_records_keep_unknown_fields_untouched(tmp_path: Path) -> None:
    record = {"id": "a", "brandNewField": {"nested": [1, "x", None]}, "state": "unknownFutureValue"}
    run(ScriptedTransport({FIRST: [page([record])]}), tmp_path / "out.ndjson")
    (line,) = (tmp_path / "out.ndjson").read_bytes().splitlines()
    assert orjson.loads(line) == {"id": "a", "parent_key": None, "record": record}


def test_throttled_and_truncated_pages_are_fetched_again(tmp_path: Path) -> None:
    truncated = page([{"id": "b"}])[:-5]
    transport = ScriptedTransport(
        {
            FIRST: [TransientError("HTTP 429", 2.128), page([{"id": "a"}], SECOND)],
            SECOND: [truncated, TransientError("HTTP 503"), page([{"id": "b"}])],
        }
    )
    result = run(transport, tmp_path / "out.ndjson")
    assert ids_in(tmp_path / "out.ndjson") == ["a", "b"]
    assert result.rows == 2
    assert transport.waits[0] == 2.128
    assert transport.calls == [FIRST, FIRST, SECOND, SECOND, SECOND]


def test_an_expired_page_token_restarts_the_collection_without_duplicates(tmp_path: Path) -> None:
    expired = GraphHTTPError(400, "Directory_ExpiredPageToken", "expired", SECOND)
    transport = ScriptedTransport({FIRST: [page([{"id": "a"}], SECOND)], SECOND: [expired, page([{"id": "b"}])]})
    result = run(transport, tmp_path / "out.ndjson")
    assert ids_in(tmp_path / "out.ndjson") == ["a", "b"]
    assert (result.rows, result.restarts) == (2, 1)


def test_a_token_that_keeps_expiring_fails_the_collection(tmp_path: Path) -> None:
    expired = GraphHTTPError(400, "Directory_ExpiredPageToken", "expired", SECOND)
    transport = ScriptedTransport({FIRST: [page([{"id": "a"}], SECOND)], SECOND: [expired]})
    with pytest.raises(CollectionRestart):
        run(transport, tmp_path / "out.ndjson")
    assert transport.calls.count(FIRST) == MAX_RESTARTS + 1


def test_records_without_an_id_go_to_dead_letters_with_their_page(tmp_path: Path) -> None:
    transport = ScriptedTransport({FIRST: [page([{"id": "a"}], SECOND)], SECOND: [page([{"name": "no id"}, "text"])]})
    result = run(transport, tmp_path / "out.ndjson")
    assert result.rows == 1
    assert [(d.page_number, d.error) for d in result.dead_letters] == [
        (2, "record has no string id"),
        (2, "record is not an object"),
    ]
    assert result.dead_letters[0].raw_text == '{"name":"no id"}'


def test_permission_errors_are_not_retried(tmp_path: Path) -> None:
    denied = GraphHTTPError(403, "Authorization_RequestDenied", "Insufficient privileges", FIRST)
    transport = ScriptedTransport({FIRST: [denied]})
    with pytest.raises(GraphHTTPError, match="403"):
        run(transport, tmp_path / "out.ndjson")
    assert transport.calls == [FIRST]


def test_fan_out_reads_every_parent_and_keys_rows_by_parent(tmp_path: Path) -> None:
    from pipelines.lib.graph.extract import extract_fan_out

    g1, g2, gone = (
        "https://g/v1.0/groups/g1/members",
        "https://g/v1.0/groups/g2/members",
        "https://g/v1.0/groups/x/members",
    )
    transport = ScriptedTransport(
        {
            g1: [page([{"id": "u1"}], g1 + "?$skiptoken=2")],
            g1 + "?$skiptoken=2": [page([{"id": "u2"}])],
            g2: [TransientError("HTTP 503"), page([{"id": "u1"}])],
            gone: [GraphHTTPError(404, "Request_ResourceNotFound", "gone", gone)],
        }
    )
    out = tmp_path / "out.ndjson"
    result = asyncio.run(extract_fan_out(transport, [("g1", g1), ("g2", g2), ("x", gone)], out))  # type: ignore[arg-type]
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [(line["parent_key"], line["id"]) for line in lines] == [("g1", "u1"), ("g1", "u2"), ("g2", "u1")]
    assert (result.rows, result.pages, result.parents, result.parents_skipped) == (3, 3, 3, 1)


def test_fan_out_fails_whole_when_one_parent_is_forbidden(tmp_path: Path) -> None:
    from pipelines.lib.graph.extract import extract_fan_out

    url = "https://g/v1.0/groups/g1/members"
    transport = ScriptedTransport({url: [GraphHTTPError(403, "Authorization_RequestDenied", "no", url)]})
    with pytest.raises(GraphHTTPError, match="403"):
        asyncio.run(extract_fan_out(transport, [("g1", url)], tmp_path / "out.ndjson"))  # type: ignore[arg-type]


def test_a_record_too_large_to_land_is_dead_lettered_not_fatal(tmp_path: Path, monkeypatch) -> None:
    from pipelines.lib.graph import extract

    monkeypatch.setattr(extract, "MAX_RECORD_BYTES", 200)
    huge = {"id": "big", "blob": "x" * 500}
    result = run(ScriptedTransport({FIRST: [page([{"id": "a"}, huge])]}), tmp_path / "out.ndjson")
    assert ids_in(tmp_path / "out.ndjson") == ["a"]
    (dead,) = result.dead_letters
    assert dead.error.startswith("record of ") and dead.error.endswith("bytes is too large")


def test_a_page_is_freed_before_the_next_one_is_fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As for Log Analytics answers: two pages alive at once pin more of Python's arenas (docs/benchmarks.md).
    import weakref

    import pipelines.lib.graph.extract as extract

    class Page(dict):  # a plain dict cannot be weakly referenced
        pass

    urls = [FIRST, SECOND, THIRD]
    earlier: list[weakref.ref] = []
    alive_when_fetched: list[int] = []

    async def fetch(transport: object, url: str) -> dict:
        alive_when_fetched.append(sum(ref() is not None for ref in earlier))
        number = urls.index(url)
        body = Page(value=[{"id": f"r{number}"}])
        if number + 1 < len(urls):
            body["@odata.nextLink"] = urls[number + 1]
        earlier.append(weakref.ref(body))
        return body

    monkeypatch.setattr(extract, "fetch_page", fetch)
    result = run(ScriptedTransport({}), tmp_path / "out.ndjson")
    assert (result.rows, result.pages) == (3, 3)
    assert alive_when_fetched == [0, 0, 0]


def test_an_object_per_parent_is_its_record_and_a_kept_404_is_stored_as_no_mailbox(tmp_path: Path) -> None:
    from pipelines.lib.graph.extract import extract_fan_out

    def url(user: str) -> str:
        return f"https://g/v1.0/users/{user}/mailboxSettings"

    settings = {"@odata.context": "ctx", "timeZone": "Pacific Standard Time"}
    transport = ScriptedTransport(
        {
            url("u1"): [TransientError("HTTP 503"), orjson.dumps(settings)],
            url("u2"): [GraphHTTPError(404, "MailboxNotEnabledForRESTAPI", "The mailbox is ...", url("u2"))],
            url("gone"): [GraphHTTPError(404, "Request_ResourceNotFound", "gone", url("gone"))],
        }
    )
    out = tmp_path / "out.ndjson"
    jobs = [(user, url(user)) for user in ("u1", "u2", "gone")]
    result = asyncio.run(
        extract_fan_out(
            transport,  # type: ignore[arg-type]
            jobs,
            out,
            object_per_parent=True,
            errors_kept_as_records=frozenset({"MailboxNotEnabledForRESTAPI"}),
        )
    )
    lines = sorted((orjson.loads(line) for line in out.read_bytes().splitlines()), key=lambda line: line["id"])
    assert [(line["id"], line["parent_key"], line["record"]) for line in lines] == [
        ("u1", "u1", settings),
        ("u2", "u2", {"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is ..."}}),
    ]
    assert (result.rows, result.parents, result.parents_skipped) == (2, 3, 1)


def test_a_forbidden_object_fails_the_collection_as_a_coverage_gap(tmp_path: Path) -> None:
    from pipelines.lib.graph.extract import extract_fan_out

    url = "https://g/v1.0/users/u1/mailboxSettings"
    transport = ScriptedTransport({url: [GraphHTTPError(403, "ErrorAccessDenied", "Access is denied.", url)]})
    with pytest.raises(GraphHTTPError, match="403"):
        asyncio.run(
            extract_fan_out(
                transport,  # type: ignore[arg-type]
                [("u1", url)],
                tmp_path / "out.ndjson",
                object_per_parent=True,
                errors_kept_as_records=frozenset({"MailboxNotEnabledForRESTAPI"}),
            )
        )
