"""pimlens' Dagster storage keeps the event log's engines, and changes nothing another process sees: Dagster's own
`storage: sqlite` reads what it wrote, and a watcher of a run (the UI's live log) still hears each event."""

from __future__ import annotations

import faulthandler
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib import paths
from pipelines.lib.dagster_storage import KeptEnginesSqliteEventLogStorage


# Storing its materialization stores the event's tags (its data version), which looks a table up inside an index
# transaction: the path that must not wait on the storage's own lock.
@dg.asset
def holders() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=holders)
def holders_known() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.define_asset_job("holders_job", selection=[holders])
DEFS = dg.Definitions(assets=[holders], asset_checks=[holders_known], jobs=[JOB])


@pytest.fixture
def storage_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.DAGSTER_STORAGE_ENV, str(tmp_path))
    return tmp_path


def test_the_product_configuration_uses_it(storage_dir: Path) -> None:
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        assert isinstance(instance.event_log_storage, KeptEnginesSqliteEventLogStorage)
        assert (storage_dir / "history" / "runs" / "index.db").exists()
        # A run launcher's process rebuilds the instance from its reference, the storage's folder from the variable.
        with dg.DagsterInstance.from_ref(instance.get_ref()) as rebuilt:
            assert isinstance(rebuilt.event_log_storage, KeptEnginesSqliteEventLogStorage)
            assert Path(rebuilt.event_log_storage._base_dir) == storage_dir / "history" / "runs"


@contextmanager
def _ends_the_process_if_stuck(seconds: float = 120) -> Iterator[None]:
    """A materialization's tags look a table up inside an index transaction, which must not wait on the storage's own
    lock: were it to, this ends the process with every thread's stack (pytest-xdist reports the test's worker as
    crashed) instead of leaving the suite hanging. The work stays on the main thread, as Dagster runs it."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def test_dagsters_own_sqlite_storage_reads_what_it_wrote(storage_dir: Path) -> None:
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        for _ in range(2):
            with _ends_the_process_if_stuck():
                result = DEFS.resolve_job_def("holders_job").execute_in_process(instance=instance)
            assert result.success
        written = instance.get_latest_materialization_event(dg.AssetKey("holders"))
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key([holders_known.check_key])

    (storage_dir / "plain-home").mkdir()
    plain = dg.DagsterInstance.local_temp(
        str(storage_dir / "plain-home"), overrides={"storage": {"sqlite": {"base_dir": str(storage_dir)}}}
    )
    with plain:
        assert type(plain.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert len(plain.get_runs()) == 2
        read = plain.get_latest_materialization_event(dg.AssetKey("holders"))
        assert read is not None and written is not None
        assert (read.run_id, read.asset_materialization.metadata) == (written.run_id, {"rows": dg.IntMetadataValue(3)})
        assert plain.get_asset_records([dg.AssetKey("holders")])[0].asset_entry.last_materialization is not None
        read_check = plain.event_log_storage.get_latest_asset_check_execution_by_key([holders_known.check_key])
        assert read_check[holders_known.check_key].run_id == check[holders_known.check_key].run_id


def test_a_watcher_of_a_run_hears_each_event_it_stores(storage_dir: Path) -> None:
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        run = instance.create_run_for_job(DEFS.resolve_job_def("holders_job"))
        heard: list[str] = []
        second_heard = threading.Event()

        def on_event(entry, _cursor) -> None:
            heard.append(entry.dagster_event.message)
            if heard[-1] == "second":
                second_heard.set()

        # A second instance, as the UI's process has: it learns of new events from changes to the run's file.
        with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as watcher:
            watcher.watch_event_logs(run.run_id, None, on_event)
            instance.report_engine_event("first", run)
            instance.report_engine_event("second", run)
            assert second_heard.wait(timeout=20), f"the watcher heard {heard}"
            watcher.end_watch_event_logs(run.run_id, on_event)
        # Before them, the events the run's creation stored (its planned materializations).
        assert [message for message in heard if message in ("first", "second")] == ["first", "second"]


def test_a_wipe_leaves_the_kept_engines_usable(storage_dir: Path) -> None:
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        assert DEFS.resolve_job_def("holders_job").execute_in_process(instance=instance).success
        instance.event_log_storage.wipe()
        assert instance.get_latest_materialization_event(dg.AssetKey("holders")) is None
        assert DEFS.resolve_job_def("holders_job").execute_in_process(instance=instance).success
        assert instance.get_latest_materialization_event(dg.AssetKey("holders")) is not None


def test_a_long_lived_process_keeps_a_bounded_number_of_run_engines(storage_dir: Path) -> None:
    with dg.DagsterInstance.from_config(str(paths.DAGSTER_HOME)) as instance:
        storage = instance.event_log_storage
        runs = [instance.create_run_for_job(DEFS.resolve_job_def("holders_job")) for _ in range(20)]
        for run in runs:
            instance.report_engine_event(f"seen {run.run_id}", run)
        assert len(storage._engines) <= storage.KEPT_RUN_ENGINES + 1  # and the index file's
        # A run whose engine was let go is written and read again through a new one.
        instance.report_engine_event("again", runs[0])
        messages = [entry.dagster_event.message for entry in instance.all_logs(runs[0].run_id)]
        assert messages[-2:] == [f"seen {runs[0].run_id}", "again"]
