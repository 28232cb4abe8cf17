"""The suite's files in RAM where the machine has room for them (the hooks in tests/conftest.py).

A refresh commits a few thousand times to Dagster's SQLite run history and hundreds of times to DuckDB, and each
commit waits for the disk (5 ms here against 1 ms on tmpfs). A module run alone gains from RAM (docs/testing.md);
the whole suite keeps both cores busy either way. Files in /dev/shm hold RAM that nothing can page out, so the
folder is used only while both the RAM disk and the machine's available memory have ROOM to spare.

Each session holds an exclusive lock on `<folder>.lock` while it runs. A folder whose lock can be taken belongs
to a session that ended (a failing one keeps its files for a look) and is removed by the next session.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

RAM_DISK = Path("/dev/shm")
ROOM = 8 * 2**30  # a full run writes a few GB
PREFIX = "pimlens-pytest-"


def available_memory() -> int:
    """MemAvailable of /proc/meminfo, in bytes; 0 where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _locked(path: Path) -> IO[str] | None:
    """`path` opened and locked exclusively; None if another process holds it."""
    handle = open(path, "a")  # noqa: SIM115 - held open for the session's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def remove_ended_sessions() -> None:
    for lock in RAM_DISK.glob(f"{PREFIX}*.lock"):
        handle = _locked(lock)
        if handle is None:
            continue  # a session still running
        shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
        lock.unlink(missing_ok=True)
        handle.close()


def claim_folder() -> tuple[Path, IO[str]] | None:
    """A new folder name on the RAM disk for this session (pytest creates the folder) and the lock that marks it
    in use; None where there is no RAM disk or not enough room."""
    if not RAM_DISK.is_dir():
        return None
    remove_ended_sessions()
    if shutil.disk_usage(RAM_DISK).free < ROOM or available_memory() < ROOM:
        return None
    handle, lock = tempfile.mkstemp(prefix=PREFIX, suffix=".lock", dir=RAM_DISK)
    os.close(handle)
    held = _locked(Path(lock))
    assert held is not None, f"{lock} was just created by this process"
    return Path(lock).with_suffix(""), held


def release_folder(folder: Path, held: IO[str], *, remove: bool) -> None:
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_suffix(".lock").unlink(missing_ok=True)
    held.close()
