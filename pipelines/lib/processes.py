"""Which process holds what, and whether it is still alive: the run lock, scratch folders, dead runs.

A process is named by its PID, its host and its start time (Linux's /proc start ticks), so a PID the kernel gave
again to another process after a kill is not mistaken for the one that died.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

RUN_LOCK_WAIT_SECONDS = 30 * 60.0
_LOCK_POLL_SECONDS = 0.5


class RunLockBusy(RuntimeError):
    """Another pimlens run kept the warehouse's run lock for longer than a run waits."""


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    host: str
    started: str  # /proc/<pid>/stat field 22 (start time in clock ticks since boot); "" where unknown

    def encode(self) -> str:
        return f"{self.pid}@{self.host}@{self.started}"

    @classmethod
    def decode(cls, text: str) -> ProcessIdentity | None:
        parts = text.strip().split("@")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2])

    def is_alive(self) -> bool:
        """Whether this process still runs; a process of another host counts as alive (it cannot be checked)."""
        if self.host != socket.gethostname():
            return True
        started = _start_ticks(self.pid)
        if started is not None:
            return not self.started or started == self.started
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def current_process() -> ProcessIdentity:
    return ProcessIdentity(os.getpid(), socket.gethostname(), _start_ticks(os.getpid()) or "")


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
    return stat.rsplit(")", 1)[1].split()[19]


@contextlib.contextmanager
def run_lock(
    lock_file: Path,
    wait_seconds: float = RUN_LOCK_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Holds the run lock of a warehouse: one pimlens run writes it at a time, whatever started the run.

    The lock is an flock on `lock_file`, which the kernel releases when its holder dies, so a lock left by a killed
    run is taken over at once; the file names the holder, for the message of whoever waits.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _describe_holder(lock_file)
                if time.monotonic() >= deadline:
                    raise RunLockBusy(
                        f"another pimlens run ({holder}) has held {lock_file} for over {wait_seconds:.0f} s: "
                        "let it finish, or stop that process"
                    ) from None
                if on_wait is not None and not announced:
                    on_wait(f"waiting for the pimlens run that holds {lock_file} ({holder}) to finish")
                    announced = True
                time.sleep(_LOCK_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (current_process().encode() + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _describe_holder(lock_file: Path) -> str:
    try:
        holder = ProcessIdentity.decode(lock_file.read_text(encoding="utf-8"))
    except OSError:
        holder = None
    return f"PID {holder.pid} on {holder.host}" if holder else "a process that has not written its PID yet"


@contextlib.contextmanager
def scratch_folder(root: Path) -> Iterator[Path]:
    """A private folder under `root` for this process's temporary files, removed when done.

    A process killed before it could remove its folder leaves it behind; ``remove_abandoned_scratch`` removes
    it at the next start.
    """
    root.mkdir(parents=True, exist_ok=True, mode=0o750)
    folder = root / f"{current_process().encode()}@{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned_scratch(root: Path) -> list[Path]:
    """Removes the scratch folders under `root` whose process is gone; returns them."""
    removed = []
    for folder in sorted(root.glob("*@*@*")) if root.is_dir() else []:
        owner = ProcessIdentity.decode(folder.name.rsplit("@", 1)[0])
        if owner is not None and not owner.is_alive():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
