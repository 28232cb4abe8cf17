"""Progress reports: what a run writes (cheaply, throttled) and what a terminal or a log shows of them."""

import asyncio
import io
import time
from pathlib import Path

import pytest

from pipelines.lib import progress
from pipelines.lib.progress_view import ProgressBoard, render, showing_progress


@pytest.fixture
def progress_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "run.progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    return path


def test_a_collection_reports_start_throttled_pages_waits_and_end(progress_file) -> None:
    with progress.tracking("collection", "users", tenant="contoso") as tracker:
        for _ in range(1000):
            tracker.page(100)  # a thousand pages within one write interval of the start: no line at all
        tracker.wait(12.0, "HTTP 429 from https://graph/v1.0/users")
        tracker.finish("done", new=40)
    board = ProgressBoard()
    events = board.read(progress_file)
    assert [event["state"] for event in events] == ["started", "waiting", "done"]
    assert (events[-1]["rows"], events[-1]["pages"], events[-1]["new"]) == (100_000, 1000, 40)
    assert events[1]["until"] == pytest.approx(time.time() + 12, abs=2)
    assert progress.describe(events[-1]).startswith("contoso: users: 100,000 rows (40 new), 1,000 pages in ")
    waiting = progress.describe(events[1], now=events[1]["until"] - 7.2)
    assert waiting == (
        "contoso: users: 100,000 rows, 1,000 pages; waiting 7 s before retrying (HTTP 429 from https://graph/v1.0/users)"
    )
    assert board.under_way() == []


def test_asyncio_tasks_see_the_collection_being_read_and_a_failure_is_reported(progress_file) -> None:
    async def parent() -> None:
        progress.current().advance()

    async def read_all() -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(3):
                group.create_task(parent())

    with pytest.raises(RuntimeError), progress.tracking("collection", "group_transitive_members", total=3):
        asyncio.run(read_all())
        raise RuntimeError("the collection failed")
    (*_, last) = ProgressBoard().read(progress_file)
    assert (last["state"], last["done"], last["error"]) == ("failed", 3, "RuntimeError")
    assert progress.current() is None


def test_the_dbt_build_is_counted_by_model_and_test(progress_file) -> None:
    class Output:
        output_name = "marts_fct_x"

    class AssetCheckResult:
        check_name = "not_null_x"

    tracker = progress.Tracker("dbt", "dbt build", total=2, unit="models and seeds built")
    events = [Output(), AssetCheckResult(), AssetCheckResult(), Output()]
    assert list(progress.counted(events, tracker)) == events
    (*_, last) = ProgressBoard().read(progress_file)
    assert progress.describe(last).startswith("dbt build: 2 of 2 models and seeds built, 2 tests run in ")


def test_the_start_of_a_refresh_is_reported_with_how_long_it_took(progress_file) -> None:
    with progress.tracking("setup", "loading the pipeline's definitions"):
        pass
    started, done = ProgressBoard().read(progress_file)
    assert progress.describe(started) == "loading the pipeline's definitions: started"
    assert progress.describe(done).startswith("loading the pipeline's definitions: done in ")


def test_a_log_gets_finished_work_at_once_and_work_under_way_every_interval(progress_file) -> None:
    out = io.StringIO()
    with showing_progress(progress_file, out, live=False, interval=0.3):
        with progress.tracking("collection", "users", tenant="contoso") as tracker:
            tracker.page(10)
            tracker.finish("done", new=10)
        slow = progress.Tracker("collection", "directory_audits", tenant="contoso")
        slow.start()
        time.sleep(0.8)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("contoso: users: 10 rows (10 new), 1 pages in ")
    # Still under way: shown once per interval, never per report.
    assert 1 <= lines.count("contoso: directory_audits: started") <= 3
    assert not any("users: started" in line for line in lines)


def test_the_live_table_shows_work_under_way_with_its_countdown(progress_file) -> None:
    tracker = progress.Tracker("collection", "directory_audits", tenant="contoso")
    tracker.page(500)
    tracker.wait(30, "HTTP 429")
    board = ProgressBoard()
    board.read(progress_file)
    out = io.StringIO()
    from rich.console import Console

    Console(file=out, width=160).print(render(board))
    text = out.getvalue()
    assert "0 collections read, 500 rows" in text
    assert "contoso directory_audits" in text and "waiting 30 s before retrying (HTTP 429)" in text


def test_without_a_progress_file_reports_go_to_the_log_every_half_minute(monkeypatch, caplog) -> None:
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    with (
        caplog.at_level("INFO", logger="pimlens.progress"),
        progress.tracking("export", "Parquet export", total=3, unit="tables written") as tracker,
    ):
        for table in ("a", "b", "c"):
            tracker.advance(table)
    assert caplog.records[0].getMessage() == "Parquet export: started"
    assert caplog.records[-1].getMessage().startswith("Parquet export: 3 of 3 tables written in ")
    assert len(caplog.records) == 2
