"""What the dbt YAML leaves undescribed, read from the parsed manifest: the unit tier asks it of the YAML alone, the
end-to-end tier of the columns a real build made (docs/metrics.md, "Documented data")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pipelines.lib import paths

# Every model layer: with the sources, every relation the build reads or writes is described, column by column.
DESCRIBED_SCHEMAS = frozenset({"staging", "intermediate", "marts"})


def load_manifest() -> dict[str, Any]:
    return json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))


def described_relations(manifest: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every source table and model, by the (schema, relation) the warehouse holds it as."""
    relations = {(node["schema"], node["name"]): node for node in manifest["sources"].values()}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("schema") in DESCRIBED_SCHEMAS:
            relations[(node["config"]["schema"], node["alias"])] = node
    return relations


def _label(node: Mapping[str, Any]) -> str:
    """How the YAML names the node: ``source raw.users`` or the model's name."""
    if node["resource_type"] == "source":
        return f"source {node['source_name']}.{node['name']}"
    return node["name"]


def _yaml_file(node: Mapping[str, Any]) -> str:
    """The YAML file that describes the node (a source's is the file it is declared in), else its SQL file."""
    patch = node.get("patch_path")
    return patch.split("://", 1)[1] if patch else node["original_file_path"]


def undescribed(manifest: Mapping[str, Any]) -> list[str]:
    """Each source table and model without a description, declaring no columns, or with a column that has no
    description: every one, so that whoever merges new models describes them all in one go."""
    gaps = []
    for node in described_relations(manifest).values():
        where = f"{_label(node)} ({_yaml_file(node)})"
        if not node.get("description", "").strip():
            gaps.append(f"{where}: no description")
        if not node["columns"]:
            gaps.append(f"{where}: no columns declared; describe each column it has")
        gaps += [
            f"{where}: column {name} has no description"
            for name, column in node["columns"].items()
            if not column.get("description", "").strip()
        ]
    return gaps


def undeclared(manifest: Mapping[str, Any], built: Iterable[tuple[str, str, str]]) -> list[str]:
    """The differences between the columns the YAML declares for each source table and model and the
    (schema, relation, column) rows a build made: a column built but not declared, one declared but not built
    (a stale description), and a relation not built at all."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, relation, column in built:
        columns.setdefault((schema, relation), []).append(column)
    gaps = []
    for key, node in described_relations(manifest).items():
        if key not in columns:
            gaps.append(f"{_label(node)}: no relation {key[0]}.{key[1]} in the warehouse")
            continue
        gaps += [
            f"{_label(node)}: column {name} is not in the YAML" for name in columns[key] if name not in node["columns"]
        ]
        gaps += [
            f"{_label(node)}: the YAML's column {name} is not in {key[0]}.{key[1]}"
            for name in node["columns"]
            if name not in columns[key]
        ]
    return gaps
