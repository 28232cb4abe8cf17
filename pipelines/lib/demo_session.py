"""Runs the demo end to end: a generated tenant, the emulator serving it, a real Dagster run against it.

The emulator and the Dagster run are separate processes, as they would be in production: the run reaches the
emulator only over HTTPS, with the same client code that reads a real tenant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV
from pipelines.lib.design import DESIGN_ENV
from pipelines.lib.progress import PROGRESS_ENV
from pipelines.lib.progress_view import showing_progress

DEMO_CLIENT_SECRET_ENV = "PIMLENS_DEMO_CLIENT_SECRET"
DEMO_WORKSPACE_ID = "00000000-0000-4000-8000-0000000000aa"
# The demo tenant's history spans a year before its as_of; Log Analytics is read back this far from then.
DEMO_HISTORY_DAYS = 400
MAX_HISTORY_DAYS = 3650  # what the configuration accepts
STARTUP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class EmulatorHandle:
    url: str
    ca_file: Path
    tenant_id: str
    client_id: str
    client_secret: str


@contextmanager
def emulator_process(
    tenant_dir: Path, state_dir: Path, *, extra_args: tuple[str, ...] = ()
) -> Iterator[EmulatorHandle]:
    """Starts ``pimlens emulate`` in its own process and yields how to reach it once it is listening."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir / "emulator.json"
    ready_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pipelines.cli", "emulate", "--tenant", str(tenant_dir)]
    command += ["--state-dir", str(state_dir), *extra_args]
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not ready_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the emulator exited with code {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator was not ready within {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(0.1)
        ready = json.loads(ready_file.read_text(encoding="utf-8"))
        yield EmulatorHandle(
            url=ready["url"],
            ca_file=Path(ready["ca_file"]),
            tenant_id=ready["tenant_id"],
            client_id=ready["client_id"],
            client_secret=ready["client_secret"],
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def tenant_as_of(tenant_dir: Path) -> str | None:
    """The instant a tenant directory is frozen at (``asOf`` of its tenant.json), if it says."""
    info = tenant_dir / "tenant.json"
    return json.loads(info.read_text(encoding="utf-8")).get("asOf") if info.is_file() else None


def tenant_subscriptions(tenant_dir: Path) -> list[str]:
    """The Azure subscriptions a tenant directory serves (``arm/subscriptions/<id>``), sorted; none without ARM."""
    folder = tenant_dir / "arm" / "subscriptions"
    return sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []


def write_demo_config(
    path: Path,
    emulator: EmulatorHandle,
    *,
    name: str = "demo",
    as_of: str | None = None,
    azure_subscriptions: list[str] | None = None,
) -> Path:
    """A pimlens configuration that points at the emulator; only URLs and the CA differ from a real tenant.

    ``as_of``: the evaluation instant, for a tenant frozen at that instant (``tenant_as_of``); None: the run's start.
    ``azure_subscriptions``: the subscriptions to read Azure RBAC from (``tenant_subscriptions``); none: ARM is not
    configured.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A first run reads Log Analytics history_days back from now, not from as_of: a tenant frozen some days ago
    # needs those days more, or its oldest sign-ins go unread.
    history_days = DEMO_HISTORY_DAYS
    if as_of is not None:
        history_days += max(0, (datetime.now(UTC) - datetime.fromisoformat(as_of)).days + 1)
    document: dict[str, object] = {
        "tenants": [
            {
                "name": name,
                "tenant_id": emulator.tenant_id,
                "client_id": emulator.client_id,
                "client_secret_env": DEMO_CLIENT_SECRET_ENV,
                "graph_url": emulator.url,
                "authority_url": emulator.url,
                "log_analytics_url": emulator.url,
                "ca_bundle": str(emulator.ca_file),
                # The emulator answers for any workspace id.
                "log_analytics_workspace_id": DEMO_WORKSPACE_ID,
                "history_days": min(history_days, MAX_HISTORY_DAYS),
            }
        ]
    }
    if azure_subscriptions:
        tenant = document["tenants"][0]  # type: ignore[index]
        tenant["management_url"] = emulator.url
        tenant["azure_subscriptions"] = list(azure_subscriptions)
    if as_of is not None:
        document["as_of"] = as_of
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def pipeline_environment(
    config_file: Path,
    warehouse: Path,
    emulator: EmulatorHandle | None,
    design_file: Path | None = None,
    dagster_storage: Path = paths.DAGSTER_STORAGE_DIR,
) -> dict[str, str]:
    """The environment a Dagster process needs: where the config, design and warehouse are, and Dagster's home and
    run storage.

    The design is `design_file` if given, else whatever PIMLENS_DESIGN already says, else design/default.yaml.
    """
    env = dict(os.environ)
    env[CONFIG_ENV] = str(config_file)
    env[WAREHOUSE_ENV] = str(warehouse)
    if design_file is not None:
        env[DESIGN_ENV] = str(design_file)
    env.setdefault(DESIGN_ENV, str(paths.DEFAULT_DESIGN_FILE))
    env["DAGSTER_HOME"] = str(paths.DAGSTER_HOME)
    env[paths.DAGSTER_STORAGE_ENV] = str(dagster_storage)
    if emulator is not None:
        env[DEMO_CLIENT_SECRET_ENV] = emulator.client_secret
    return env


def run_refresh(env: dict[str, str], log_file: Path, args: tuple[str, ...] = ()) -> int:
    """``python -m pipelines.refresh`` with ``args``, in its own process like a deployment's run worker: real
    Dagster runs, one ingest per tenant partition then the transform, recorded in the instance so the UI shows them
    afterwards. Dagster's event log goes to ``log_file``, its progress to this process's output; returns the exit
    code.
    """
    paths.DAGSTER_STORAGE_DIR.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pipelines.refresh", *args]
    # The run reports its progress to a file beside its log, which is shown here as it grows.
    progress_file = log_file.with_suffix(".progress.jsonl")
    progress_file.unlink(missing_ok=True)
    env = {**env, PROGRESS_ENV: str(progress_file)}
    with log_file.open("wb") as log, showing_progress(progress_file):
        return subprocess.run(command, env=env, cwd=paths.REPO_ROOT, stdout=log, stderr=subprocess.STDOUT).returncode


def log_tail(log_file: Path, lines: int = 40) -> str:
    return "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def run_refresh_job(env: dict[str, str], log_file: Path) -> None:
    """`run_refresh` of every tenant; on failure raises with the last lines of the log and the file's path."""
    returncode = run_refresh(env, log_file)
    if returncode != 0:
        tail = log_tail(log_file)
        raise RuntimeError(
            f"a Dagster run failed (exit code {returncode}); the end of its log follows, all of it is in {log_file}\n"
            + tail
        )
