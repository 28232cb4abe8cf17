"""Every dbt model, seed and test as Dagster assets and checks.

The dbt source is named ``raw``, so the sources' asset keys are the ingest assets' ``["raw", table]`` keys and
lineage needs no translator.
"""

import json
from datetime import UTC, datetime

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import DUCKDB_WRITER_POOL, OWNERS, PimlensSource, Warehouse
from pipelines.lib import progress
from pipelines.lib.dbt_build_folders import prune_build_folders
from pipelines.lib.dbt_commands import SCHEDULED_BUILD, as_of_arguments
from pipelines.lib.warehouse.history_migrations import migrate_kept_histories
from pipelines.lib.warehouse.model_upgrades import drop_changed_models, record_built_models
from pipelines.lib.warehouse.schema import ensure_meta
from pipelines.lib.warehouse.typed_events import ensure_typed_tables

# The dbt project's folders under models/ (dbt_project.yml sets each one's schema and materialization).
MODEL_LAYERS = ("staging", "intermediate", "marts")
SEED_GROUP = "reference"


class PimlensTranslator(DagsterDbtTranslator):
    """Keys a versioned model (the contracted star schema, docs/metrics.md) as ``[schema, relation]`` like every
    other model, ``["marts", "dim_tenant_v1"]``: dagster-dbt would key it by its relation name alone.

    Groups each model by its layer (the folder under models/) and the seeds as reference data, so the UI shows the
    layers beside the ingest, design and exports groups instead of one group ``default``. Every model and seed
    has the project's owners, like the other assets.
    """

    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return SEED_GROUP
        if dbt_resource_props["resource_type"] == "model" and len(fqn) > 2 and fqn[1] in MODEL_LAYERS:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props):
        return [*OWNERS, *(super().get_owners(dbt_resource_props) or [])]

    def get_asset_key(self, dbt_resource_props):
        schema = dbt_resource_props.get("config", {}).get("schema")
        if dbt_resource_props.get("version") and schema is not None:
            return dg.AssetKey([schema, dbt_resource_props["alias"]])
        return super().get_asset_key(dbt_resource_props)


# The design tables are all written by one asset, design/programme, so several dbt sources share its key.
TRANSLATOR = PimlensTranslator(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    pool=DUCKDB_WRITER_POOL,
    dagster_dbt_translator=TRANSLATOR,
)
def pimlens_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, pimlens: PimlensSource
):
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    # The instant every window and verdict is evaluated at: the configuration's as_of, else the run's start.
    as_of = pimlens.load().as_of or _run_start(context)
    context.log.info(f"evaluating every model at {as_of.isoformat()}")
    dropped = []
    migrated = []
    with warehouse.connect() as con:
        # Landing creates meta.quarantine and types the audit events; this only matters to a warehouse that has
        # landed nothing since an upgrade.
        ensure_meta(con)
        ensure_typed_tables(con)
        # After an upgrade, incremental models whose definition changed are derived from raw again
        # (model_upgrades.py). Only in a run of every model: a subset run would leave a dropped model missing until
        # the next full one.
        if not context.is_subset:
            # The tables that keep history are migrated, never dropped (history_migrations.py).
            migrated = migrate_kept_histories(con)
            dropped = drop_changed_models(con, manifest)
    if migrated:
        context.log.warning("migrated the tables that keep history: " + ", ".join(migrated))
    if dropped:
        context.log.warning(
            "deriving again from raw, their definition changed since they were built: "
            + ", ".join(model.name for model in dropped)
        )
    prune_build_folders(dbt_project.project_dir / "target", f"{context.op_def.name}-")
    invocation = dbt.cli([*SCHEDULED_BUILD, *as_of_arguments(as_of)], context=context)
    # A generator's steps may run in other contexts, so this tracker is held here rather than made current.
    tracker = progress.Tracker(
        "dbt", "dbt build", total=len(context.selected_asset_keys), unit="models and seeds built"
    )
    try:
        yield from progress.counted(invocation.stream(), tracker)
    finally:
        # Whatever built, even in a run that failed later, need not be derived again next time.
        if invocation.target_path.joinpath("run_results.json").exists():
            results = invocation.get_artifact("run_results.json")["results"]
            with warehouse.connect() as con:
                record_built_models(con, manifest, [r["unique_id"] for r in results if r["status"] == "success"])


def _run_start(context: dg.AssetExecutionContext) -> datetime:
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record is not None else None
    return datetime.fromtimestamp(started, UTC) if started is not None else datetime.now(UTC)
