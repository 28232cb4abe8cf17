"""The operator's faults of issue 17, each against one shared clean baseline: a generated size-S tenant (seed 7),
served by the emulator, refreshed once by ``python -m pipelines.refresh`` in its own process.

Each test copies the baseline's warehouse, injects its fault into a refresh in a separate process (killed with
SIGKILL where the fault is a kill), reruns where a rerun is the remedy, and compares with the baseline: the raw
tables' ids and record hashes (nothing lost, nothing duplicated, no row of an uncommitted load), every mart's row
count, and the headline metrics published to the analytics database against the generator's ground truth.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.demo_tenant import generate_tenant
from pipelines.emulator import EmulatorOptions, RunningEmulator, start_emulator
from pipelines.lib import paths
from pipelines.lib.demo_session import EmulatorHandle, pipeline_environment, tenant_subscriptions, write_demo_config
from pipelines.lib.warehouse.metrics import compare_with_truth, read_headline_metrics
from pipelines.lib.warehouse.publish import analytics_path, mart_columns
from tests.integration.reconcile import landed_fingerprint, orphan_rows
from tests.limits import emulator_options

from .killed_site import KilledSite, kill_three_times_and_rerun

PSEUDONYM_KEY_ENV = "PIMLENS_TEST_PSEUDONYM_KEY"
REFRESH_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Tenant:
    directory: Path
    tenant_id: str
    truth: dict[str, float | None]


@dataclass(frozen=True)
class Snapshot:
    """What a refresh left: the raw tables' fingerprint, the marts' row counts and, for the marts with a row per
    snapshot day, the newest day and each one's rows on that day."""

    raw: dict[str, tuple[int, int, str]]
    marts: dict[str, int]
    newest_day: date | None = None
    newest_day_rows: dict[str, int] = field(default_factory=dict)

    def marts_differing_from(self, before: Snapshot) -> dict[str, tuple[int, int]]:
        """The marts whose rows differ from `before`'s, with both counts.

        A refresh on a later UTC day than `before`'s (a suite that runs past midnight) adds that day to every mart
        with a row per snapshot day, as it should: those marts are then compared on their newest day."""
        mine, theirs = dict(self.marts), dict(before.marts)
        if self.newest_day != before.newest_day:
            mine |= self.newest_day_rows
            theirs |= before.newest_day_rows
        return {
            table: (mine.get(table, 0), theirs.get(table, 0))
            for table in mine.keys() | theirs.keys()
            if mine.get(table) != theirs.get(table)
        }


@dataclass
class Refresh:
    """`python -m pipelines.refresh` on `warehouse`, in its own process (as the daemon's run worker would be)."""

    process: subprocess.Popen
    log: Path
    warehouse: Path

    def wait(self) -> int:
        return self.process.wait(timeout=REFRESH_TIMEOUT_SECONDS)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL of the refresh process alone, as the OOM killer or `kill -9` would: its children are not told."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@dataclass
class Site:
    """Where a refresh runs: the configuration, the warehouse and Dagster's run storage under one folder."""

    folder: Path
    emulator: RunningEmulator
    options: EmulatorOptions
    tenant: Tenant
    pseudonymise: bool = False

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse.duckdb"

    @property
    def storage(self) -> Path:
        return self.folder / "dagster"

    def handle(self) -> EmulatorHandle:
        emulator, options = self.emulator, self.options
        return EmulatorHandle(
            emulator.url, emulator.ca_file, emulator.tenant_id, options.client_id, options.client_secret
        )

    def config_file(self) -> Path:
        handle = self.handle()
        config = write_demo_config(
            self.folder / "pimlens.yaml", handle, azure_subscriptions=tenant_subscriptions(self.tenant.directory)
        )
        if self.pseudonymise:
            document = yaml.safe_load(config.read_text(encoding="utf-8"))
            config.write_text(
                yaml.safe_dump({"pseudonymise": {"key_env": PSEUDONYM_KEY_ENV}, **document}, sort_keys=False),
                encoding="utf-8",
            )
        return config

    def environment(self) -> dict[str, str]:
        handle = self.handle()
        design = self.tenant.directory / "design.yaml"
        env = pipeline_environment(self.config_file(), self.warehouse, handle, design, dagster_storage=self.storage)
        env[PSEUDONYM_KEY_ENV] = "a test key that is long enough"
        return env

    def start_refresh(self, name: str = "refresh") -> Refresh:
        self.storage.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipelines.refresh"],
                env=self.environment(),
                cwd=paths.REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Refresh(process, log, self.warehouse)

    def refresh(self, name: str = "refresh") -> Refresh:
        run = self.start_refresh(name)
        assert run.wait() == 0, run.output()[-4000:]
        return run


# Marts that keep a row per load by design: a rerun adds its loads' rows, so they are counted per (tenant,
# collection) instead.
PER_LOAD_MARTS = frozenset({"fct_data_quality"})


def snapshot_day_column(table: str, columns: set[str]) -> str | None:
    """The day column of a mart with a row per snapshot day: the daily history's and the access trend's
    snapshot_date, the star's daily fact's date_key."""
    if "snapshot_date" in columns:
        return "snapshot_date"
    return "date_key" if table.endswith("_daily_v1") and "date_key" in columns else None


def snapshot(warehouse: Path) -> Snapshot:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = mart_columns(con)
        marts = {
            table: con.execute(
                f"select count(distinct (tenant_id, collection)) from marts.{table}"
                if table in PER_LOAD_MARTS
                else f"select count(*) from marts.{table}"
            ).fetchone()[0]
            for table in columns
        }
        day_columns = {
            table: snapshot_day_column(table, {name for name, _ in typed}) for table, typed in columns.items()
        }
        newest = {
            table: con.execute(
                f"select max({day}), count(*) filter (where {day} = (select max({day}) from marts.{table}))"
                f" from marts.{table}"
            ).fetchone()
            for table, day in day_columns.items()
            if day is not None
        }
    days = {day for day, _ in newest.values() if isinstance(day, date)}
    return Snapshot(
        landed_fingerprint(warehouse),
        marts,
        max(days) if days else None,
        {table: rows for table, (_, rows) in newest.items()},
    )


def published_metrics_equal_truth(warehouse: Path, tenant: Tenant) -> list[str]:
    """The headline metrics that differ from ground truth in the analytics database published beside `warehouse`."""
    measured = read_headline_metrics(analytics_path(warehouse)).get(tenant.tenant_id, {})
    return [name for name, _, _, same in compare_with_truth(measured, tenant.truth) if not same]


@dataclass(frozen=True)
class Baseline:
    site: Site
    snapshot: Snapshot

    def copy_to(self, folder: Path, **site_options) -> Site:
        """A new site whose warehouse and analytics file are the baseline's (the refresh before the fault), with
        fresh run storage."""
        folder.mkdir(parents=True, exist_ok=True)
        for file in (self.site.warehouse, analytics_path(self.site.warehouse)):
            shutil.copy2(file, folder / file.name)
        return Site(folder, self.site.emulator, self.site.options, self.site.tenant, **site_options)

    def assert_reached_by(self, site: Site) -> None:
        """No raw row lost or duplicated, no orphan, every mart built with the baseline's rows, metrics published."""
        after = snapshot(site.warehouse)
        assert after.raw == self.snapshot.raw
        assert orphan_rows(site.warehouse) == 0
        assert after.marts_differing_from(self.snapshot) == {}
        assert published_metrics_equal_truth(site.warehouse, site.tenant) == []


@pytest.fixture(scope="session")
def tenant_s(tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    directory = tmp_path_factory.mktemp("tenant-s") / "tenant"
    as_of = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    truth = generate_tenant(directory, size="S", seed=7, as_of=as_of)
    return Tenant(directory, truth.tenant_id, truth.metrics)


@pytest.fixture(scope="session")
def emulator_s(tenant_s: Tenant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    emulator = start_emulator(
        tenant_s.directory, state_dir=tmp_path_factory.mktemp("emulator"), options=emulator_options()
    )
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def baseline(tenant_s: Tenant, emulator_s: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    site = Site(tmp_path_factory.mktemp("baseline"), emulator_s, EmulatorOptions(), tenant_s)
    site.refresh()
    assert published_metrics_equal_truth(site.warehouse, tenant_s) == []
    return Baseline(site, snapshot(site.warehouse))


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def personal_values(tenant_dir: Path) -> set[str]:
    """Values of the tenant that identify a person or say what they wrote: UPNs, names, mail and IP addresses,
    justifications (long enough not to be a common word)."""
    import json

    def read(relative: str) -> list[dict]:
        path = tenant_dir / relative
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    values: set[str] = set()
    for user in read("v1.0/users.json"):
        values |= {user.get(key) for key in ("userPrincipalName", "displayName", "mail")}
    for principal in read("v1.0/servicePrincipals.json") + read("v1.0/groups.json"):
        values.add(principal.get("displayName"))
    for request in read("v1.0/roleManagement/directory/roleAssignmentScheduleRequests.json"):
        values.add(request.get("justification"))
    for sign_in in read("loganalytics/SigninLogs.json"):
        values |= {sign_in.get("IPAddress"), sign_in.get("UserPrincipalName")}
    return {value for value in values if isinstance(value, str) and len(value) >= 8}


def leaked(texts: set[str], personal: set[str]) -> set[str]:
    """The personal values found in `texts`, whole or inside a longer text."""
    found = texts & personal
    addresses = {value for value in personal if "@" in value or value.count(".") == 3}
    return found | {value for value in addresses for text in texts if value in text}


def strings_in_database(database: Path) -> set[str]:
    texts: set[str] = set()
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in columns:
            rows = con.execute(f'select distinct "{column}" from {schema}."{table}" where "{column}" is not null')
            texts |= {row[0] for row in rows.fetchall()}
    return texts


def strings_in_parquet(folder: Path) -> set[str]:
    texts: set[str] = set()
    with duckdb.connect() as con:
        for file in folder.glob("*.parquet"):
            described = con.execute(f"describe select * from read_parquet('{file}')").fetchall()
            for column in [row[0] for row in described if row[1] == "VARCHAR"]:
                rows = con.execute(
                    f"""select distinct "{column}" from read_parquet('{file}') where "{column}" is not null"""
                )
                texts |= {row[0] for row in rows.fetchall()}
    return texts


@pytest.fixture(scope="session")
def killed_site(baseline: Baseline, tmp_path_factory: pytest.TempPathFactory) -> KilledSite:
    """A pseudonymised copy of the baseline killed during ingest, the quality gates and dbt, then rerun
    (killed_site.py): read by the kill tests and the privacy test."""
    return kill_three_times_and_rerun(baseline, tmp_path_factory.mktemp("killed"))
