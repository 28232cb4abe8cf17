"""Resources shared by every asset, fed from the environment so the demo and a real tenant share one code path."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.project import dbt_project
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, PimlensConfig, load_config
from pipelines.lib.dagster_runs import record_run_process
from pipelines.lib.design import DESIGN_ENV, Design, load_design
from pipelines.lib.files import restrict
from pipelines.lib.processes import run_lock
from pipelines.lib.warehouse.locks import connect_waiting

# Every asset that writes the DuckDB file takes a slot of this pool; dagster.yaml limits it to one, because
# DuckDB admits a single writer process.
DUCKDB_WRITER_POOL = "duckdb_writer"
OWNERS = ["team:pimlens"]


class PimlensSource(dg.ConfigurableResource):
    """Which tenants to read and how to reach them: the pimlens configuration file."""

    config_file: str

    def load(self) -> PimlensConfig:
        return load_config(Path(self.config_file))


class ProgrammeDesign(dg.ConfigurableResource):
    """The programme design file the warehouse compares the tenant with (design/default.yaml documents it)."""

    design_file: str

    def load(self) -> Design:
        return load_design(Path(self.design_file))


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file.

    A run that uses it holds the warehouse's run lock from start to end (a second run, from the daemon or from
    ``pipelines.refresh``, waits for it) and records its process on the run, so a run whose process is killed is
    marked failed (``pipelines/lib/dagster_runs.py``).
    """

    path: str

    @property
    def run_lock_file(self) -> Path:
        return Path(self.path).with_name(Path(self.path).name + ".run.lock")

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Warehouse]:
        if context.instance is not None and context.run_id is not None:
            record_run_process(context.instance, context.run_id)
        with run_lock(self.run_lock_file, on_wait=context.log.info if context.log else None):
            try:
                yield self
            finally:
                # A warehouse made before pimlens restricted its files, or by a process with a looser umask.
                for file in (Path(self.path), Path(self.path + ".wal")):
                    restrict(file)

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Waits a bounded time for another process's lock on the file, then names that process."""
        return connect_waiting(self.path, read_only=read_only)


class DbtWithoutInProcessAdapter(DbtCliResource):
    """dagster-dbt's dbt resource, without the dbt adapter it loads in the pipeline's own process.

    Before every command dagster-dbt reads the profile, the project and every macro into an in-process adapter (2 s
    of CPU a run here), used only to fetch row counts and column metadata, which pimlens does not ask for; dbt
    itself runs in its own process (pimlens-dbt). tests/unit/lib/test_dbt_child.py checks the hook still exists.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


defs = dg.Definitions(
    resources={
        "pimlens": PimlensSource(config_file=dg.EnvVar(CONFIG_ENV)),
        "warehouse": Warehouse(path=dg.EnvVar(WAREHOUSE_ENV)),
        "design": ProgrammeDesign(design_file=dg.EnvVar(DESIGN_ENV)),
        # dbt from this interpreter's environment, so a run works without the virtualenv on PATH, started through
        # pimlens-dbt: it dies with the run and gets no secret (pipelines/lib/dbt_child.py).
        "dbt": DbtWithoutInProcessAdapter(
            project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("pimlens-dbt"))
        ),
    },
    # One process: DuckDB takes a file lock per process, and a step per process costs seconds each.
    executor=dg.in_process_executor,
)
