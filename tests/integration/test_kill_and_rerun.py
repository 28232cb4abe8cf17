"""A run killed at any point and started again leaves what an uninterrupted run leaves."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.emulator import EmulatorOptions, FaultPlan
from pipelines.lib.demo_session import DEMO_CLIENT_SECRET_ENV, EmulatorHandle, write_demo_config
from pipelines.lib.ingest import ingest_all

from .many_pages_tenant import write_many_pages_tenant
from .reconcile import landed_fingerprint, orphan_rows

pytestmark = pytest.mark.slow


def extract_command(config: Path, warehouse: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "extract", "--config", str(config), "--warehouse", str(warehouse)]


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_run_then_rerun_equals_an_uninterrupted_run(seed, tmp_path, serve_tenant, monkeypatch) -> None:
    tenant = write_many_pages_tenant(tmp_path / "tenant")
    # Slow pages stretch the run over a few seconds, so the kill lands in extraction or in a commit.
    options = EmulatorOptions(retry_after_scale=0.01, faults=FaultPlan(latency_ms=150))
    emulator = serve_tenant(tenant, options)
    handle = EmulatorHandle(
        emulator.url, emulator.ca_file, emulator.tenant_id, options.client_id, options.client_secret
    )
    config = write_demo_config(tmp_path / "pimlens.yaml", handle)
    monkeypatch.setenv(DEMO_CLIENT_SECRET_ENV, options.client_secret)

    clean = tmp_path / "clean.duckdb"
    ingest_all([_tenant(config)], clean)

    killed = tmp_path / "killed.duckdb"
    process = subprocess.Popen(extract_command(config, killed), stdout=subprocess.DEVNULL)
    time.sleep(random.Random(seed).uniform(1.5, 5.0))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before the kill: lengthen it"

    rerun = subprocess.run(extract_command(config, killed), capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert landed_fingerprint(killed) == landed_fingerprint(clean)
    assert orphan_rows(killed) == 0


def _tenant(config: Path):
    from pipelines.lib.config import load_config

    (tenant,) = load_config(config).tenants
    return tenant
