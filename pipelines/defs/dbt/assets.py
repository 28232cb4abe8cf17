"""Every dbt model, seed and test as Dagster assets and checks.

The dbt source is named ``raw``, so the sources' asset keys are the ingest assets' ``["raw", table]`` keys and
lineage needs no translator.
"""

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import DUCKDB_WRITER_POOL
from pipelines.lib.dbt_commands import SCHEDULED_BUILD

# The design tables are all written by one asset, design/programme, so several dbt sources share its key.
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    pool=DUCKDB_WRITER_POOL,
    dagster_dbt_translator=TRANSLATOR,
)
def pimlens_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(list(SCHEDULED_BUILD), context=context).stream()
