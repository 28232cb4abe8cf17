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
