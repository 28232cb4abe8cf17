"""The whole refresh in one process, without the daemon: what ``pimlens demo`` and the end-to-end tests run.

It does what the schedule and sensors do when the daemon runs, with the same job definitions, executor and
resources: sync one partition per configured tenant, run ``ingest_tenant`` for each partition, then
``transform_warehouse`` once, if at least one tenant was ingested. Every run is recorded in the given instance,
so the Dagster UI shows them afterwards. As on the daemon's path, each run holds the warehouse's run lock (a
second refresh waits for the first) and records its process, and runs left unfinished by a killed process are
marked failed before anything starts.

``python -m pipelines.refresh`` runs it on the instance of ``DAGSTER_HOME`` for the configuration file of
``PIMLENS_CONFIG``, ends with the data-quality summary (records set aside, loads held, the Great Expectations Data
Docs) and exits 1 if any run failed. ``--tenant NAME`` (repeatable) ingests only those tenants; ``--result FILE``
writes which runs succeeded as JSON, for ``pimlens run``'s summary.
"""

import argparse
import fcntl
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.defs.automation import INGEST_JOB, TRANSFORM_JOB
from pipelines.defs.ingest.partitions import sync_tenant_partitions
from pipelines.lib import paths, progress
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, ConfigError, load_config
from pipelines.lib.dagster_runs import fail_dead_runs
from pipelines.lib.quality.summary import quality_summary


@dataclass(frozen=True)
class RefreshResult:
    ingests: dict[str, dg.ExecuteInProcessResult]
    # None when no tenant could be ingested, so there was nothing new to transform.
    transform: dg.ExecuteInProcessResult | None

    @property
    def success(self) -> bool:
        runs = [*self.ingests.values(), self.transform]
        return all(run is not None and run.success for run in runs)

    def failed_runs(self) -> list[str]:
        failed = [f"{INGEST_JOB}[{tenant}]" for tenant, run in self.ingests.items() if not run.success]
        if self.transform is None or not self.transform.success:
            failed.append(TRANSFORM_JOB if self.transform else f"{TRANSFORM_JOB} (not started: no tenant ingested)")
        return failed

    def as_json(self) -> dict[str, object]:
        """Which runs succeeded: ``{"ingests": {tenant: bool}, "transform": bool or None (not started)}``."""
        return {
            "ingests": {tenant: run.success for tenant, run in self.ingests.items()},
            "transform": None if self.transform is None else self.transform.success,
        }


def refresh_in_process(
    instance: dg.DagsterInstance,
    config_file: Path,
    *,
    raise_on_error: bool = True,
    only: Sequence[str] | None = None,
) -> RefreshResult:
    """``only``: the names of the tenants to ingest (each must be configured); None: every configured tenant."""
    # Seconds pass before the first collection is read: reported, so that `pimlens run` shows the start moving.
    with progress.tracking("setup", "loading the pipeline's definitions and Dagster's run history"):
        definitions = defs()
        config = load_config(config_file)
        for name in only or ():
            config.tenant_named(name)  # a ConfigError naming the tenants there are
        for run_id in fail_dead_runs(instance):
            print(f"run {run_id} was left unfinished by a process that is gone: marked failed", file=sys.stderr)
        # Every configured tenant keeps its partition, also when only some are ingested now.
        sync_tenant_partitions(instance, config.tenant_names)
    tenants = [name for name in config.tenant_names if only is None or name in only]
    ingest = definitions.resolve_job_def(INGEST_JOB)
    ingests = {
        tenant: ingest.execute_in_process(instance=instance, partition_key=tenant, raise_on_error=raise_on_error)
        for tenant in tenants
    }
    if not any(run.success for run in ingests.values()):
        return RefreshResult(ingests, None)
    transform = definitions.resolve_job_def(TRANSFORM_JOB).execute_in_process(
        instance=instance, raise_on_error=raise_on_error
    )
    return RefreshResult(ingests, transform)


@contextmanager
def open_instance() -> Iterator[dg.DagsterInstance]:
    """The instance of DAGSTER_HOME. Opening it creates its SQLite tables in a new storage folder: two refreshes
    starting together there would both create them and the second would fail ("table runs already exists"), so
    the opening is serialised by a lock file in that folder."""
    storage = os.environ.get(paths.DAGSTER_STORAGE_ENV)
    if not storage:
        with dg.DagsterInstance.get() as instance:
            yield instance
        return
    Path(storage).mkdir(parents=True, exist_ok=True)
    with open(Path(storage) / ".open.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
        fcntl.flock(lock, fcntl.LOCK_UN)
    with instance:
        yield instance


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", action="append", help="ingest only this configured tenant (repeatable)")
    parser.add_argument("--result", type=Path, help="write which runs succeeded to this JSON file")
    args = parser.parse_args(argv)
    config_file = os.environ.get(CONFIG_ENV)
    if not config_file:
        print(f"Set {CONFIG_ENV} to the pimlens configuration file.", file=sys.stderr)
        return 2
    os.umask(0o027)  # what the pipeline writes is for its owner and group only
    try:
        with open_instance() as instance:
            result = refresh_in_process(instance, Path(config_file), raise_on_error=False, only=args.tenant)
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return 2
    if args.result:
        args.result.write_text(json.dumps(result.as_json()), encoding="utf-8")
    warehouse = os.environ.get(WAREHOUSE_ENV)
    for line in quality_summary(Path(warehouse)) if warehouse else []:
        print(line)
    if not result.success:
        print(f"Failed: {', '.join(result.failed_runs())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
