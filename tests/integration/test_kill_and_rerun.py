"""A run killed at any point and started again leaves what an uninterrupted run leaves."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.emulator import EmulatorOptions, FaultPlan, RunningEmulator, start_emulator
from pipelines.lib.demo_session import DEMO_CLIENT_SECRET_ENV, EmulatorHandle, write_demo_config
from pipelines.lib.ingest import ingest_all

from .many_pages_tenant import write_many_pages_tenant
from .reconcile import landed_fingerprint, orphan_rows

pytestmark = pytest.mark.slow


def extract_command(config: Path, warehouse: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "extract", "--config", str(config), "--warehouse", str(warehouse)]


# Slow pages stretch the killed run over a few seconds, so the kill lands in extraction or in a commit. Only that run
# is slowed: the uninterrupted extraction and the reruns would wait on it for nothing (about 14 s each).
SLOW_PAGES = FaultPlan(latency_ms=60)


@dataclass
class ManyPages:
    config: Path
    clean: dict  # what an uninterrupted extraction landed (landed_fingerprint)
    emulator: RunningEmulator


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManyPages]:
    """The many-pages tenant served by the emulator, and one uninterrupted extraction to compare kills with."""
    root = tmp_path_factory.mktemp("many-pages")
    tenant = write_many_pages_tenant(root / "tenant")
    options = EmulatorOptions(retry_after_scale=0.01)
    with start_emulator(tenant, state_dir=root / "emulator", options=options) as emulator:
        handle = EmulatorHandle(
            emulator.url, emulator.ca_file, emulator.tenant_id, options.client_id, options.client_secret
        )
        config = write_demo_config(root / "pimlens.yaml", handle)
        with pytest.MonkeyPatch.context() as env:
            env.setenv(DEMO_CLIENT_SECRET_ENV, options.client_secret)
            ingest_all([_tenant(config)], root / "clean.duckdb")
            yield ManyPages(config, landed_fingerprint(root / "clean.duckdb"), emulator)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_run_then_rerun_equals_an_uninterrupted_run(seed, many_pages: ManyPages, tmp_path) -> None:
    killed = tmp_path / "killed.duckdb"
    many_pages.emulator.set_faults(SLOW_PAGES)
    try:
        process = subprocess.Popen(extract_command(many_pages.config, killed), stdout=subprocess.DEVNULL)
        time.sleep(random.Random(seed).uniform(1.5, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        many_pages.emulator.set_faults(FaultPlan())
    assert process.returncode == -signal.SIGKILL, "the run finished before the kill: lengthen it"

    rerun = subprocess.run(extract_command(many_pages.config, killed), capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert landed_fingerprint(killed) == many_pages.clean
    assert orphan_rows(killed) == 0


def _tenant(config: Path):
    from pipelines.lib.config import load_config

    (tenant,) = load_config(config).tenants
    return tenant
