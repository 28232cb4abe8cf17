"""Runs a command that starts processes of its own (``dagster dev``: the webserver, the daemon, code servers) so
that stopping it stops all of them.

The command leads a new process group. SIGINT and SIGTERM received here are sent to the whole group, so every
child gets them at once instead of relying on the command to pass them on (``dagster dev`` leaves its children
running when it is terminated). A command that does not stop within a grace period of the signal is killed with
its group; when it has exited, whatever is left of its group is terminated, and killed after the grace period, so
nothing it started outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

FORWARDED = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 20.0


@dataclass
class GroupResult:
    returncode: int
    # The signal that asked the group to stop, if one did.
    stopped_by: signal.Signals | None = None


def run_in_own_group(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> GroupResult:
    result = GroupResult(returncode=0)
    process = subprocess.Popen(list(command), env=env, cwd=cwd, start_new_session=True)

    asked_at: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        result.stopped_by = signal.Signals(signum)
        asked_at.append(time.monotonic())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        while True:
            try:
                result.returncode = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                # Asked to stop and still running after the grace period: nothing is left to wait for.
                if asked_at and time.monotonic() - asked_at[0] > grace_seconds:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stop_group(process.pid, grace_seconds)
    return result


def stop_group(group: int, grace_seconds: float) -> None:
    """Terminates what is left of process group ``group``, and kills it after ``grace_seconds``."""
    if not _group_alive(group):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not _group_alive(group):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    """Whether any process of the group is still running (a zombie, waiting to be reaped, is not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            # Fields after the command's closing parenthesis: state, ppid, pgrp, ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False
