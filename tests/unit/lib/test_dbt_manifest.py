"""Checks of the parsed dbt project that dbt's own parse lets through."""

import json

from pipelines.lib import paths


def test_every_data_test_names_a_generic_test_that_exists() -> None:
    """dbt parses a test whose generic test does not exist (say, one removed by a rename) without a word, and only
    the build that runs it fails: in the manifest, its macro dependency is left empty."""
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    unresolved = sorted(
        f"{node['original_file_path']}: {node['test_metadata']['name']} on {node['attached_node']}"
        for node in tests
        if node.get("test_metadata") and None in node["depends_on"]["macros"]
    )
    assert tests and not unresolved, unresolved


def test_every_data_test_has_a_short_name_saying_what_it_checks() -> None:
    """A data test's name is its Dagster check's name; dbt's default one spells out every argument (670 characters
    for a model_checks test), so each test in the YAML is named: ``<model>_checks`` for the one model_checks test of
    a model, ``<model>__<column>_in_<model referred to>`` for a relationships test."""
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    nodes = {**manifest["nodes"], **manifest["sources"]}
    misnamed = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        attached = nodes[node["attached_node"]]["name"]
        kind = node["test_metadata"]["name"]
        if kind == "model_checks":
            expected = f"{attached}_checks"
        elif kind == "relationships":
            referred = node["test_metadata"]["kwargs"]["to"].removeprefix("ref('").removesuffix("')")
            expected = f"{attached}__{node['column_name']}_in_{referred}"
        else:
            expected = node["name"] if len(node["name"]) <= 80 else "a name of at most 80 characters"
        if node["name"] != expected:
            misnamed.append(f"{node['original_file_path']}: {node['name']} (name it {expected})")
    assert misnamed == []
