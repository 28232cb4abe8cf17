"""The evaluation instant: a build with a fixed as_of gives the marts a build run at that instant gives, and the
pipeline evaluates at the configuration's as_of."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import paths
from pipelines.lib.dbt_commands import SCHEDULED_BUILD, as_of_arguments

from .conftest import GENERATED_AS_OF, GeneratedRun, warehouse_in

pytestmark = pytest.mark.slow

AS_OF = GENERATED_AS_OF
# Columns that say when a row was written, not what it was computed for.
WRITTEN_AT = {"computed_at", "refreshed_at"}


def dbt_build(warehouse: Path, *extra: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pimlens-dbt")), *SCHEDULED_BUILD, *extra],
        cwd=paths.DBT_PROJECT_DIR,
        env=dict(os.environ, PIMLENS_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, without the columns that record when they were written."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        found = {}
        for table in sorted(tables):
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
                    "order by column_index",
                    [table],
                ).fetchall()
                if c not in WRITTEN_AT
            ]
            select = ", ".join(f'cast("{c}" as varchar)' for c in columns)
            found[table] = sorted(con.execute(f"select {select} from marts.{table}").fetchall(), key=repr)
    return found


def as_of_at(warehouse: Path) -> set[datetime]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {row[0] for row in con.execute("select distinct as_of_at from marts.fct_headline_metrics").fetchall()}


def test_a_fixed_as_of_gives_the_marts_of_a_run_at_that_instant(
    shared_tenant_run: GeneratedRun, tmp_path: Path
) -> None:
    run = shared_tenant_run
    assert run.success
    # The pipeline evaluated at the configuration's as_of (the tenant's instant, conftest.run_refresh).
    assert as_of_at(run.warehouse) == {AS_OF}
    at_tenant_instant = marts(run.warehouse)

    # A build from the raw data, left to its default, is evaluated at its own start: a run at that instant. (From
    # nothing: an incremental build would keep the alerts the first build raised, with their first sightings.)
    now_run = warehouse_in(tmp_path / "now")
    shutil.copy(run.warehouse, now_run)
    before = datetime.now(UTC)
    dbt_build(now_run, "--full-refresh")
    (started,) = as_of_at(now_run)
    assert before <= started <= datetime.now(UTC)
    at_run_start = marts(now_run)

    # The same raw data built from nothing later, with as_of fixed at that start: the same marts.
    replay = warehouse_in(tmp_path / "replay")
    shutil.copy(run.warehouse, replay)
    dbt_build(replay, "--full-refresh", *as_of_arguments(started))
    replayed = marts(replay)
    assert replayed.keys() == at_run_start.keys()
    assert [table for table, rows in replayed.items() if rows != at_run_start[table]] == []

    # And the instant matters: five weeks after the tenant's instant, more eligibilities have gone stale.
    stale = "fct_stale_eligibilities"
    assert len(at_run_start[stale]) > len(at_tenant_instant[stale])
