from datetime import timedelta

from pipelines.lib.config import TenantSettings
from pipelines.lib.loganalytics import (
    MAX_ANSWER_BYTES,
    MAX_GROWTH,
    READ_BLOCK_BYTES,
    SMALLEST_WINDOW,
    TARGET_ANSWER_BYTES,
    WINDOW,
    make_logs_client,
    next_window_size,
    smaller_window,
)

DAY = timedelta(days=1)


def test_the_next_window_is_sized_to_carry_the_target_answer() -> None:
    # A day answered 4x the target: a quarter of a day is expected to answer about the target.
    assert next_window_size(DAY, 4 * TARGET_ANSWER_BYTES) == DAY / 4
    assert next_window_size(DAY, 2 * TARGET_ANSWER_BYTES) == DAY / 2


def test_a_quiet_answer_grows_the_next_window_only_so_much() -> None:
    # Half the target would double the window; a quiet night must not stretch the next one over a busy day.
    assert next_window_size(DAY, TARGET_ANSWER_BYTES // 2) == DAY * MAX_GROWTH
    assert next_window_size(DAY, 0) == DAY * MAX_GROWTH  # an empty answer too


def test_windows_stay_between_a_minute_and_a_week() -> None:
    assert next_window_size(WINDOW, 0) == WINDOW
    assert next_window_size(WINDOW, 10 * TARGET_ANSWER_BYTES) == WINDOW / 10
    assert next_window_size(SMALLEST_WINDOW, 100 * TARGET_ANSWER_BYTES) == SMALLEST_WINDOW


def test_a_refused_window_is_asked_again_as_small_as_its_announced_size_says() -> None:
    assert smaller_window(DAY, 10 * TARGET_ANSWER_BYTES) == DAY / 10
    assert smaller_window(DAY, 3 * TARGET_ANSWER_BYTES // 2) == DAY / 2  # always at least halved
    assert smaller_window(DAY, 2 * MAX_ANSWER_BYTES) < DAY / 2
    assert smaller_window(DAY, None) == DAY / 2  # a partial answer announces no size
    assert smaller_window(2 * SMALLEST_WINDOW, 1000 * TARGET_ANSWER_BYTES) == SMALLEST_WINDOW


def test_answers_are_read_from_the_socket_in_large_blocks() -> None:
    # azure-core's default is 4 kB per read; the option reaches its transport only through the client's keywords,
    # so an SDK upgrade that stopped passing it on would silently bring back a million reads per L run.
    settings = TenantSettings(
        name="t", tenant_id="00000000-0000-0000-0000-000000000001", client_id="c", client_secret="s"
    )
    with make_logs_client(settings) as client:
        transport = client._client._pipeline._transport
        assert transport.connection_config.data_block_size == READ_BLOCK_BYTES >= 1 << 20


def test_the_window_replay_counts_a_burst_built_and_thrown_away() -> None:
    from datetime import UTC, datetime

    from bench.extract.la_windows import replay

    start = datetime(2026, 1, 1, tzinfo=UTC)
    # One 1 kB row an hour for 30 days, and a burst of 20,000 (20 MB) inside one hour of day 10.
    times = [start + timedelta(hours=h) for h in range(30 * 24)]
    times += [start + timedelta(days=10, seconds=s / 10) for s in range(20_000)]
    times.sort()
    total_bytes = [1024.0 * (n + 1) for n in range(len(times))]
    counts = replay(times, total_bytes, start, start + timedelta(days=30))
    assert counts["rows"] == len(times)
    # The week holding the burst answers ~20 MB: refused (and built) at least once, then asked in smaller windows.
    assert counts["refused"] >= 1
    assert counts["rows_thrown_away"] >= 20_000


def test_an_answer_is_freed_before_the_next_one_is_asked_for(tmp_path, monkeypatch) -> None:
    # Two answers alive at once set the high-water of Python's small-object arenas, and arenas a later object pins
    # stay resident under the landing that follows (docs/benchmarks.md, branch wt-flat3).
    import weakref
    from datetime import UTC, datetime

    import pipelines.lib.loganalytics as loganalytics
    from pipelines.lib.graph.retry import RetryBudget

    earlier: list[weakref.ref] = []
    alive_when_asked: list[int] = []

    def one_row_answer(client, workspace_id, table, start, end, budget, max_rows):
        alive_when_asked.append(sum(ref() is not None for ref in earlier))
        answer = loganalytics.Answer(["Id", "TimeGenerated"], [[f"row-{len(earlier)}", start.isoformat()]], 100)
        earlier.append(weakref.ref(answer))
        return answer

    monkeypatch.setattr(loganalytics, "_query_window", one_row_answer)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result = loganalytics.extract_log_table(
        None,  # type: ignore[arg-type]
        "workspace",
        loganalytics.LogTable("AuditLogs"),
        start,
        start + 3 * WINDOW,
        tmp_path / "out.ndjson",
        budget=RetryBudget(),
        time_property="TimeGenerated",
    )
    assert result.rows == result.pages == len(earlier) >= 3
    assert alive_when_asked == [0] * len(earlier)
