"""Every dbt model, seed and test as Dagster assets and checks.

The dbt source is named ``raw``, so the sources' asset keys are the ingest assets' ``["raw", table]`` keys and
lineage needs no translator.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import DUCKDB_WRITER_POOL


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, pool=DUCKDB_WRITER_POOL)
def pimlens_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
