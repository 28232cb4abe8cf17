"""Opening the warehouse when another process may hold DuckDB's file lock: wait a bounded time, then say who.

DuckDB admits one read-write process per file, and a read-only process blocks writers too. Analysts read the
published analytics file, not the warehouse (publish.py), so a conflict here is a short overlap (a refresh's
steps hand the file to each other, or someone opened the warehouse by hand): it is retried with a growing pause
up to ``LOCK_WAIT_SECONDS``, and then fails with a message naming the process that holds the lock.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 120.0
FIRST_PAUSE_SECONDS = 0.1
LONGEST_PAUSE_SECONDS = 5.0
# DuckDB's words for a file lock another process holds: 'Conflicting lock is held in <program> (PID <n>)'.
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseLocked(RuntimeError):
    """Another process kept the warehouse's file lock longer than the pipeline waits."""


def lock_holder(message: str) -> str | None:
    """'PID 123 (/usr/bin/python3)' when `message` is DuckDB's lock conflict, else None."""
    if "Could not set lock on file" not in message:
        return None
    match = _HOLDER.search(message)
    return f"PID {match['pid']} ({match['program']})" if match else "another process"


def connect_waiting(
    path: Path | str,
    *,
    read_only: bool = False,
    config: Mapping[str, Any] | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried with a doubling pause while another process holds the file's lock."""
    deadline = time.monotonic() + wait_seconds
    pause = FIRST_PAUSE_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
        except duckdb.IOException as error:
            holder = lock_holder(str(error))
            remaining = deadline - time.monotonic()
            if holder is None:
                raise
            if remaining <= 0:
                raise WarehouseLocked(
                    f"{path} is locked by {holder} and stayed locked for {wait_seconds:.0f} s: close that "
                    "process's connection (analysts and BI tools should open the analytics file instead)"
                ) from None
            log.warning("%s is locked by %s; trying again in %.1f s", path, holder, min(pause, remaining))
            sleep(min(pause, remaining))
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
