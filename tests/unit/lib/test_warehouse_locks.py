"""Waiting for another process's lock on the warehouse: bounded, and naming the holder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.locks import WarehouseLocked, connect_waiting, lock_holder


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    """A reader in another process that holds `path` open for `seconds`, as an analyst's notebook would."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}, read_only=True); print('open', flush=True); "
            f"time.sleep({seconds})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "open"
    return process


def test_the_holder_is_read_from_duckdbs_message() -> None:
    message = (
        'IO Error: Could not set lock on file "/w.duckdb": Conflicting lock is held in /usr/bin/python3.11 '
        "(PID 4242). However, you would be able to open this database in read-only mode"
    )
    assert lock_holder(message) == "PID 4242 (/usr/bin/python3.11)"
    assert lock_holder("IO Error: Cannot open file: No such file or directory") is None


def test_a_short_lock_is_waited_for(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = _hold(warehouse, 1.5)
    try:
        started = time.monotonic()
        with connect_waiting(warehouse, wait_seconds=30) as con:
            con.execute("create table t as select 1 as a")
        assert time.monotonic() - started >= 0.5
    finally:
        reader.wait()


def test_a_lock_held_too_long_fails_naming_the_process(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = _hold(warehouse, 30)
    try:
        with pytest.raises(WarehouseLocked, match=rf"locked by PID {reader.pid} .* for 1 s"):
            connect_waiting(warehouse, wait_seconds=1)
    finally:
        reader.kill()
        reader.wait()
