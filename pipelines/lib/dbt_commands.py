"""The dbt commands pimlens runs, shared by the Dagster asset, the benchmark and the tests."""

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.lib.dbt_child import AS_OF_OPTION

# The scheduled build: seeds, models and the data tests that gate them. dbt's unit tests check the models' SQL on
# fixed inputs, not the data, so they run in CI (tests/integration/test_handwritten_tenant.py) rather than on every
# refresh, as dbt advises; they would add several seconds to each daily build.
# Its log file keeps info and above: at dbt's default (debug) every statement of every node is formatted and written
# to logs/dbt.log, about a fifth of the worker threads' time in a daily build; the SQL stays in target/run.
SCHEDULED_BUILD = ("build", "--exclude-resource-type", "unit_test", "--log-level-file", "info")

# Every dbt unit test, against a warehouse whose models exist (dbt reads the input columns' types from it).
UNIT_TESTS = ("test", "--select", "test_type:unit")


def as_of_arguments(as_of: datetime) -> tuple[str, ...]:
    """The `pimlens-dbt` arguments that set the evaluation instant of every model (the as_of macro)."""
    return (AS_OF_OPTION, as_of.astimezone(UTC).isoformat())


# dagster-dbt gives every build a folder of its own in dbt's target folder (about 7 MB: manifest, compiled SQL, run
# results) and never removes one: a daily schedule would keep 2.5 GB a year.
INVOCATIONS_KEPT = 10
INVOCATION_MIN_AGE_SECONDS = 86_400.0  # a build in progress, even one of another warehouse, is never this old


def prune_build_folders(target: Path, prefix: str) -> list[Path]:
    """Removes the build folders `target/<prefix>*` beyond the newest INVOCATIONS_KEPT that are a day old."""
    modified = {folder: folder.stat().st_mtime for folder in target.glob(f"{prefix}*") if folder.is_dir()}
    newest_first = sorted(modified, key=modified.__getitem__, reverse=True)
    cutoff = time.time() - INVOCATION_MIN_AGE_SECONDS
    removed = [folder for folder in newest_first[INVOCATIONS_KEPT:] if modified[folder] < cutoff]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
