"""`pimlens ui` runs `dagster dev` through run_in_own_group: a SIGTERM to it stops the webserver, the daemon and
the code servers dagster dev started, and none survives (issue 21 found them outliving dagster dev alone)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.lib import paths

pytestmark = pytest.mark.slow

WRAPPER = textwrap.dedent(
    """
    import sys
    from pipelines.lib.process_group import run_in_own_group
    print(run_in_own_group(sys.argv[1:], grace_seconds=20).stopped_by.name)
    """
)


def processes(field: int, value: int) -> list[int]:
    """The running processes whose /proc stat field (after the command: 1 parent, 2 group) is ``value``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[field]) == value and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_sigterm_stops_every_process_dagster_dev_started(tmp_path: Path) -> None:
    config = tmp_path / "pimlens.yaml"
    config.write_text(
        "tenants:\n  - {name: t, tenant_id: 10000000-0000-0000-0000-000000000001, credential: managed_identity}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(paths.DAGSTER_HOME),
        paths.DAGSTER_STORAGE_ENV: str(tmp_path / "dagster"),
        "PIMLENS_CONFIG": str(config),
        "PIMLENS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "PIMLENS_DESIGN": str(paths.DEFAULT_DESIGN_FILE),
    }
    dagster = str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "dev", "-m", "pipelines.definitions", "--host", "127.0.0.1", "--port", str(free_port())]
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *command],
        env=env,
        cwd=paths.REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # dagster dev (the wrapper's child) leads its own group; wait until it runs the webserver, the daemon and a
        # code server, each a process of that group.
        deadline = time.monotonic() + 240
        leader, members = None, []
        while len(members) < 4:
            assert time.monotonic() < deadline, f"dagster dev started only {members}"
            assert wrapper.poll() is None
            time.sleep(1)
            leader = next(iter(processes(1, wrapper.pid)), None)
            members = processes(2, leader) if leader else []
        wrapper.send_signal(signal.SIGTERM)
        out, _ = wrapper.communicate(timeout=60)
        assert out.strip().splitlines()[-1] == "SIGTERM"
        assert processes(2, leader) == []
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
