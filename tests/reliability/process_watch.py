"""Watching the processes a refresh starts, from /proc: waiting for a condition, a process's children, its command
line, environment and state."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def first_within(condition: Callable[[], object], timeout: float) -> object:
    """`condition`'s first truthy value within `timeout` seconds; None if it stays falsy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return None


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """`condition`'s first truthy value; fails the test, naming `what`, if none comes within `timeout` seconds."""
    value = first_within(condition, timeout)
    if not value:
        raise AssertionError(f"{what} did not happen within {timeout} s")
    return value


def children_of(pid: int) -> list[int]:
    """The PIDs whose parent is `pid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def is_running(pid: int) -> bool:
    """False once `pid` has exited, even while it waits, a zombie, for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
