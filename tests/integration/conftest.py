"""End-to-end harness: a tenant directory, the emulator serving it over HTTPS, and a real Dagster run."""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.definitions import defs
from pipelines.defs.automation import INGEST_JOB, TRANSFORM_JOB, transform_after_ingests
from pipelines.defs.ingest.partitions import sync_tenant_partitions
from pipelines.demo_tenant import GroundTruth, generate_tenant
from pipelines.emulator import EmulatorOptions, RunningEmulator, start_emulator
from pipelines.lib import paths, progress
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV
from pipelines.lib.demo_session import (
    DEMO_CLIENT_SECRET_ENV,
    EmulatorHandle,
    tenant_as_of,
    tenant_subscriptions,
    write_demo_config,
)
from pipelines.lib.design import DESIGN_ENV
from pipelines.lib.warehouse.metrics import read_headline_metrics
from pipelines.refresh import RefreshResult, open_instance, refresh_in_process
from tests.limits import emulator_options
from tests.shared_tenant import SHARED_TENANT

from .handwritten_variants import HANDWRITTEN_TENANT, VARIANTS, Variant


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """dagster-dbt loads the project from its manifest; `make test` builds it, a bare pytest run may not have."""
    manifest = paths.DBT_PROJECT_DIR / "target" / "manifest.json"
    # The workers of `pytest -n` start together: one parses, the others wait for its manifest.
    paths.DBT_PROJECT_DIR.joinpath("target").mkdir(exist_ok=True)
    with open(paths.DBT_PROJECT_DIR / "target" / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists():
            _parse_dbt_project()
    return manifest


def _parse_dbt_project() -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--profiles-dir", ".", "--quiet"],
        cwd=paths.DBT_PROJECT_DIR,
        env={"PIMLENS_WAREHOUSE": "warehouse.duckdb", "PATH": ""},  # as the Makefile parses it
        check=True,
    )


def warehouse_in(folder: Path) -> Path:
    """`folder`/warehouse.duckdb, the folder made: a warehouse of another name would make dbt parse the whole project
    again, its profile's path differing from the saved parse's (pipelines/lib/dbt_child.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "warehouse.duckdb"


@dataclass
class PipelineRun:
    warehouse: Path
    result: RefreshResult

    def metrics(self, tenant_id: str) -> dict[str, float | None]:
        return read_headline_metrics(self.warehouse)[tenant_id]


@pytest.fixture
def serve_tenant(tmp_path: Path) -> Iterator:
    """Starts the emulator on a tenant directory; stops every emulator the test started."""
    started: list[RunningEmulator] = []

    def _serve(tenant_dir: Path, options: EmulatorOptions | None = None) -> RunningEmulator:
        emulator = start_emulator(tenant_dir, state_dir=tmp_path / "emulator", options=options or emulator_options())
        started.append(emulator)
        return emulator

    yield _serve
    for emulator in started:
        emulator.stop()


def run_refresh(
    emulator: RunningEmulator,
    work_dir: Path,
    env: pytest.MonkeyPatch,
    *,
    options: EmulatorOptions | None = None,
    raise_on_error: bool = True,
    design: Path | None = None,
) -> PipelineRun:
    """The refresh in process against `emulator` (the tenant's ingest partition, then the transform), with the
    same resources a deployment uses.

    The warehouse is `work_dir/warehouse.duckdb`, so a second call with the same `work_dir` is a rerun on it.
    `design` (the PIMLENS_DESIGN file) defaults to design/default.yaml.
    """
    opts = options or EmulatorOptions()
    handle = EmulatorHandle(emulator.url, emulator.ca_file, emulator.tenant_id, opts.client_id, opts.client_secret)
    warehouse = work_dir / "warehouse.duckdb"
    # Evaluated at the instant the tenant is frozen at, as a run at that instant would be.
    config_file = write_demo_config(
        work_dir / "pimlens.yaml",
        handle,
        as_of=tenant_as_of(emulator.tenant_dir),
        azure_subscriptions=tenant_subscriptions(emulator.tenant_dir),
    )
    env.setenv(CONFIG_ENV, str(config_file))
    env.setenv(WAREHOUSE_ENV, str(warehouse))
    env.setenv(DEMO_CLIENT_SECRET_ENV, opts.client_secret)
    env.setenv(DESIGN_ENV, str(design or paths.DEFAULT_DESIGN_FILE))
    with dg.DagsterInstance.ephemeral() as instance:
        result = refresh_in_process(instance, config_file, raise_on_error=raise_on_error)
    return PipelineRun(warehouse, result)


@pytest.fixture
def run_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`run_refresh` for one test, its environment undone afterwards."""

    def _run(emulator: RunningEmulator, **kwargs) -> PipelineRun:
        return run_refresh(emulator, tmp_path, monkeypatch, **kwargs)

    return _run


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# The instant the generated tenants of the integration tier are frozen at and evaluated at.
GENERATED_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# The generated tenant whose refresh several modules read (the end-to-end checks, the as-of and the incremental
# builds): it is refreshed once per worker, and tests/conftest.py runs those modules on one worker.


@dataclass
class GeneratedRun:
    """A generated tenant, the emulator serving it, and one refresh of it (its warehouse, the files beside it and
    the progress it wrote to `progress.jsonl` there). Shared: read it, or copy the warehouse to change it."""

    truth: GroundTruth
    tenant_dir: Path
    warehouse: Path
    success: bool
    emulator: RunningEmulator
    _reader: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)

    def query(self, sql: str) -> list[tuple]:
        # One read-only connection for every question the tests ask: opening the warehouse reads its whole catalog,
        # about a tenth of a second each time, and a module asks dozens.
        if self._reader is None:
            self._reader = duckdb.connect(str(self.warehouse), read_only=True)
        return self._reader.execute(sql).fetchall()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def generated_run(root: Path, size: str, seed: int) -> Iterator[GeneratedRun]:
    """Generates the tenant under `root`, serves it and refreshes it with its own design, evaluated at
    GENERATED_AS_OF; the emulator stops when the generator is closed."""
    truth = generate_tenant(root / "tenant", size=size, seed=seed, as_of=GENERATED_AS_OF)
    with (
        start_emulator(root / "tenant", state_dir=root / "emulator", options=emulator_options()) as emulator,
        pytest.MonkeyPatch.context() as env,
    ):
        with progress.writing_to(root / "progress.jsonl"):
            run = run_refresh(emulator, root, env, raise_on_error=False, design=root / "tenant" / "design.yaml")
        generated = GeneratedRun(truth, root / "tenant", run.warehouse, run.result.success, emulator)
        try:
            yield generated
        finally:
            generated.close()


@pytest.fixture(scope="session")
def shared_tenant_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedRun]:
    size, seed = SHARED_TENANT
    yield from generated_run(tmp_path_factory.mktemp(f"{size}-{seed}"), size, seed)


@dataclass
class VariantsRun(PipelineRun):
    """The refresh of every variant of the hand-written tenant (tests/integration/handwritten_variants.py) into
    one warehouse, and what was seen on the way: after each variant's ingest (by its name), the users in the
    warehouse per tenant id; how many transforms the sensor asked for once every tenant was ingested."""

    users_after_ingest: dict[str, dict[str, int]]
    transform_requests: int


def users_per_tenant(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select tenant_id, count(*) from raw.users group by 1").fetchall())


@pytest.fixture(scope="session")
def handwritten_variants_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VariantsRun]:
    """One ingest partition per variant, in VARIANTS' order, then the one transform the sensor asks for, all
    evaluated at the hand-written tenant's instant. Read by five modules (the upgrade test copies it), run on one
    worker (tests/conftest.py)."""
    work = tmp_path_factory.mktemp("handwritten-variants")
    warehouse = warehouse_in(work)
    as_of = tenant_as_of(HANDWRITTEN_TENANT)
    with contextlib.ExitStack() as stack:
        tenants = []
        for variant in VARIANTS:
            tenant_dir = variant.build(work / variant.name / "tenant")
            emulator = stack.enter_context(
                start_emulator(tenant_dir, state_dir=work / variant.name / "emulator", options=variant.options)
            )
            assert emulator.tenant_id == variant.tenant_id
            tenants.append(_tenant_config(variant, emulator, work / variant.name, as_of))
        secrets = {variant.options.client_secret for variant in VARIANTS}
        assert len(secrets) == 1, "the variants' tenants share one client secret variable"
        (work / "pimlens.yaml").write_text(yaml.safe_dump({"as_of": as_of, "tenants": tenants}), encoding="utf-8")
        env = stack.enter_context(pytest.MonkeyPatch.context())
        env.setenv(CONFIG_ENV, str(work / "pimlens.yaml"))
        env.setenv(WAREHOUSE_ENV, str(warehouse))
        env.setenv(DEMO_CLIENT_SECRET_ENV, secrets.pop())
        env.setenv(DESIGN_ENV, str(paths.DEFAULT_DESIGN_FILE))
        definitions = defs()
        # The deployment's instance (dagster.yaml, pimlens' event log) in the suite's folder, as `pimlens run` opens
        # it: Dagster's default test instance kept its files under /tmp, on disk, and connected once per event.
        # Dagster reads the variables while runs execute, so they stay set for the fixture's life, as the others.
        env.setenv("DAGSTER_HOME", str(paths.DAGSTER_HOME))
        env.setenv(paths.DAGSTER_STORAGE_ENV, str(work / "dagster"))
        instance = stack.enter_context(open_instance())
        sync_tenant_partitions(instance, [variant.name for variant in VARIANTS])
        ingest = definitions.resolve_job_def(INGEST_JOB)
        ingests, users_after_ingest = {}, {}
        for variant in VARIANTS:
            ingests[variant.name] = ingest.execute_in_process(instance=instance, partition_key=variant.name)
            users_after_ingest[variant.name] = users_per_tenant(warehouse)
        tick = transform_after_ingests(dg.build_sensor_context(instance=instance))
        transform_requests = len(tick.run_requests) if isinstance(tick, dg.SensorResult) else 0
        transform = definitions.resolve_job_def(TRANSFORM_JOB).execute_in_process(instance=instance)
        yield VariantsRun(warehouse, RefreshResult(ingests, transform), users_after_ingest, transform_requests)


# What write_demo_config configures for Log Analytics alone (history_days is how far back a first run reads it).
LOG_ANALYTICS_KEYS = ("log_analytics_url", "log_analytics_workspace_id", "history_days")


def _tenant_config(variant: Variant, emulator: RunningEmulator, folder: Path, as_of: str | None) -> dict:
    """The variant's entry in the configuration: as `run_refresh` writes it (`write_demo_config`), or that entry
    without Log Analytics."""
    opts = variant.options
    handle = EmulatorHandle(emulator.url, emulator.ca_file, emulator.tenant_id, opts.client_id, opts.client_secret)
    config_file = write_demo_config(
        folder / "pimlens.yaml",
        handle,
        name=variant.name,
        as_of=as_of,
        azure_subscriptions=tenant_subscriptions(emulator.tenant_dir),
    )
    (entry,) = yaml.safe_load(config_file.read_text(encoding="utf-8"))["tenants"]
    if variant.log_analytics:
        return entry
    return {key: value for key, value in entry.items() if key not in LOG_ANALYTICS_KEYS}
