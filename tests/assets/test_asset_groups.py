"""How the assets are grouped in the Dagster UI: by layer, never the catch-all ``default``."""

import json

import dagster as dg

from pipelines.defs.dbt.assets import TRANSLATOR, pimlens_dbt_models
from pipelines.defs.ingest import bookkeeping
from pipelines.lib import paths


def test_each_dbt_model_is_grouped_by_its_layer_and_seeds_as_reference_data() -> None:
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    groups = {
        node["name"]: TRANSLATOR.get_group_name(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    expected_prefix = {"staging": "stg_", "intermediate": "int_", "marts": ("fct_", "dim_")}
    for name, group in groups.items():
        if group == "reference":
            continue
        assert name.startswith(expected_prefix[group]), f"{name} is in group {group}"
    assert groups["stg_graph__users"] == "staging"
    assert groups["fct_headline_metrics"] == "marts"
    assert groups["role_classification"] == "reference"
    assert set(groups.values()) == {"staging", "intermediate", "marts", "reference"}


def test_every_dbt_asset_and_the_bookkeeping_tables_have_a_group_and_owners() -> None:
    specs = [*pimlens_dbt_models.specs, bookkeeping.loads, bookkeeping.coverage, bookkeeping.quarantine]
    specs += [bookkeeping.dead_letter, bookkeeping.gate_verdicts]
    assert [spec.key for spec in specs if spec.group_name in (None, "default")] == []
    assert [spec.key for spec in specs if "team:pimlens" not in spec.owners] == []
    assert bookkeeping.loads.key == dg.AssetKey(["meta", "loads"])
    assert bookkeeping.gate_verdicts.group_name == "quality"
