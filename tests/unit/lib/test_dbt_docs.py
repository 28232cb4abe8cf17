"""Every dbt source table, model and column is described in the YAML, checked on the parsed manifest."""

import copy

from tests.dbt_docs import load_manifest, undescribed


def test_every_source_table_model_and_column_has_a_description() -> None:
    gaps = undescribed(load_manifest())
    assert gaps == [], f"{len(gaps)} undescribed in the dbt YAML:\n" + "\n".join(gaps)


def test_the_check_names_every_undescribed_model_and_column_at_once() -> None:
    """A model added without docs and a column whose description was dropped are both named, in one failure."""
    manifest = copy.deepcopy(load_manifest())
    users = next(node for node in manifest["nodes"].values() if node["name"] == "stg_graph__users")
    users["columns"]["department"]["description"] = ""
    groups = next(node for node in manifest["nodes"].values() if node["name"] == "stg_graph__groups")
    groups["description"], groups["columns"] = "", {}
    source = next(node for node in manifest["sources"].values() if node["name"] == "role_definitions")
    source["columns"]["record"]["description"] = " "
    models = "models/staging/graph/_graph__models.yml"
    assert sorted(undescribed(manifest)) == [
        "source raw.role_definitions (models/staging/graph/_graph__sources.yml): column record has no description",
        f"stg_graph__groups ({models}): no columns declared; describe each column it has",
        f"stg_graph__groups ({models}): no description",
        f"stg_graph__users ({models}): column department has no description",
    ]
