"""pimlens-dbt: dbt's environment without the configuration's secrets, and dbt dying with its parent."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pipelines.lib.dbt_child import child_environment


def test_the_secrets_the_configuration_names_are_removed_and_nothing_else(tmp_path: Path) -> None:
    config = tmp_path / "pimlens.yaml"
    config.write_text(
        "pseudonymise: {key_env: PSEUDO_KEY}\n"
        "tenants:\n"
        "  - {name: a, tenant_id: x, client_id: y, client_secret_env: SECRET_A}\n"
        "  - {name: b, tenant_id: x, client_id: y, certificate_path: cert.pem}\n",
        encoding="utf-8",
    )
    environ = {
        "PIMLENS_CONFIG": str(config),
        "SECRET_A": "s",
        "PSEUDO_KEY": "k",
        "PIMLENS_WAREHOUSE": "/w.duckdb",
        "PATH": "/bin",
    }
    assert child_environment(environ) == {
        "PIMLENS_CONFIG": str(config),
        "PIMLENS_WAREHOUSE": "/w.duckdb",
        "PATH": "/bin",
    }
    assert child_environment({"PATH": "/bin"}) == {"PATH": "/bin"}


# A parent that starts a child which asks for the death signal, as pimlens-dbt does, prints the child's PID and
# waits to be killed.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "from pipelines.lib.dbt_child import die_with_parent; die_with_parent(); import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has asked for the signal
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = _state(child)
        if state in (None, "Z", "X"):
            return
        time.sleep(0.05)
    raise AssertionError(f"the child {child} outlived its killed parent (state {_state(child)})")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
