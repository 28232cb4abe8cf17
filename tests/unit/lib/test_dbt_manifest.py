"""Checks of the parsed dbt project that dbt's own parse lets through."""

import json
import re

from pipelines.lib import paths
from pipelines.lib.graph.collections import COLLECTIONS


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


def test_every_raw_collection_feeds_a_model_or_docs_say_why_not() -> None:
    """Issue 20's bookkeeping: a collection pimlens extracts is read by some model, or docs/metrics.md names it under
    "Raw collections no model reads" with the reason; and a collection named there is really read by none."""
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    read = {
        dependency.rsplit(".", 1)[1]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for dependency in node["depends_on"]["nodes"]
        if dependency.startswith("source.pimlens.raw.")
    }
    # The audit events of both copies (Graph's, the workspace's), typed in the transaction that lands them.
    read |= {table.removesuffix("_typed") for table in read if table.endswith("_typed")}
    text = (paths.REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = text.split("## Raw collections no model reads", 1)[1].split("\n## ", 1)[0]
    named = {
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([a-z0-9_]+)`", line.split(" | ", 1)[0])
    }
    extracted = {spec.table for spec in COLLECTIONS}
    assert named <= extracted, named - extracted
    assert extracted - read == named
