"""The run lock, the scratch folders and process identities, with real processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines.lib.processes import (
    ProcessIdentity,
    RunLockBusy,
    current_process,
    remove_abandoned_scratch,
    run_lock,
    scratch_folder,
)


def _dead_process() -> ProcessIdentity:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    alive = ProcessIdentity(process.pid, current_process().host, "")
    process.wait()
    return ProcessIdentity(alive.pid, alive.host, "1")


def test_a_process_is_alive_until_it_ends_and_a_reused_pid_is_not_taken_for_it() -> None:
    me = current_process()
    assert me.is_alive()
    assert ProcessIdentity.decode(me.encode()) == me
    assert not ProcessIdentity(me.pid, me.host, "1").is_alive()  # same PID, another start time
    assert not _dead_process().is_alive()
    assert ProcessIdentity(1, "another-host", "1").is_alive()  # cannot be checked from here


def test_a_second_holder_waits_then_refuses_naming_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "warehouse.duckdb.run.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pipelines.lib.processes import run_lock\n"
            f"with run_lock(Path({str(lock)!r})):\n    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        waits: list[str] = []
        with pytest.raises(RunLockBusy, match=f"PID {holder.pid} on "), run_lock(lock, 1.0, on_wait=waits.append):
            pass
        assert waits and f"PID {holder.pid}" in waits[0]
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the killed holder's lock: it is taken over at once, though its PID is still in the file.
    started = time.monotonic()
    with run_lock(lock, wait_seconds=5.0):
        assert ProcessIdentity.decode(lock.read_text()) == current_process()
    assert time.monotonic() - started < 2


def test_runs_of_one_process_take_the_lock_in_turn(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    order: list[str] = []

    def second() -> None:
        with run_lock(lock, wait_seconds=10.0):
            order.append("second")

    with run_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        order.append("first")
    thread.join()
    assert order == ["first", "second"]


def test_scratch_of_a_dead_process_is_removed_at_the_next_start_and_a_living_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    dead = root / f"{_dead_process().encode()}@abcd1234"
    dead.mkdir(parents=True)
    (dead / "signins.ndjson").write_text("{}\n")
    with scratch_folder(root) as mine:
        assert (mine.stat().st_mode & 0o777) == 0o700
        assert remove_abandoned_scratch(root) == [dead]
        assert mine.is_dir()
    assert not mine.exists()
    assert list(root.iterdir()) == []
