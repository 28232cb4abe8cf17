"""Resources shared by every asset, fed from the environment so the demo and a real tenant share one code path."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.project import dbt_project
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, PimlensConfig, load_config
from pipelines.lib.design import DESIGN_ENV, Design, load_design

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
    """The DuckDB warehouse file."""

    path: str

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(self.path, read_only=read_only)


defs = dg.Definitions(
    resources={
        "pimlens": PimlensSource(config_file=dg.EnvVar(CONFIG_ENV)),
        "warehouse": Warehouse(path=dg.EnvVar(WAREHOUSE_ENV)),
        "design": ProgrammeDesign(design_file=dg.EnvVar(DESIGN_ENV)),
        # dbt from this interpreter's environment, so a run works without the virtualenv on PATH.
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))),
    },
    # One process: DuckDB takes a file lock per process, and a step per process costs seconds each.
    executor=dg.in_process_executor,
)
