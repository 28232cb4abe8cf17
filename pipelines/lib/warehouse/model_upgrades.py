"""Incremental dbt models derived again from raw when their definition changes.

An incremental model keeps the rows each run derived with the SQL of that day. When pimlens is upgraded and a
model's SQL, a project macro it uses or its configuration changes, the stored rows no longer match what the model
now derives, and a changed column list makes dbt refuse the build outright ("schemas out of sync"). Raw data is kept
losslessly, so before the scheduled build such a model is dropped, with the incremental models that read it, and the
build derives them from raw again. What each model was last built with is kept in meta.dbt_model_fingerprints.

A model that keeps what raw cannot give back says so with ``meta: {keeps_history: true}`` (fct_alerts keeps when
each alert was first seen). It is never dropped: a change to it needs a migration, and dbt stops with its own error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

FINGERPRINTS_DDL = """create table if not exists meta.dbt_model_fingerprints (
    unique_id varchar primary key,
    fingerprint varchar not null,
    recorded_at timestamptz not null
)"""
# Configuration that changes what an incremental model stores; tags, docs and the like do not.
DERIVING_CONFIG = ("materialized", "unique_key", "incremental_strategy", "on_schema_change", "schema", "alias")


@dataclass(frozen=True)
class IncrementalModel:
    unique_id: str
    schema: str
    name: str
    fingerprint: str
    keeps_history: bool

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.name}"'


def incremental_models(manifest: dict) -> dict[str, IncrementalModel]:
    """The project's incremental models, each with a fingerprint of its SQL, project macros and configuration."""
    models = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["config"].get("materialized") != "incremental":
            continue
        deriving = {
            "sql": node["checksum"]["checksum"],
            "config": {key: node["config"].get(key) for key in DERIVING_CONFIG},
            "macros": {macro: _macro_checksum(manifest, macro) for macro in _project_macros(manifest, node)},
        }
        fingerprint = hashlib.sha256(json.dumps(deriving, sort_keys=True, default=str).encode()).hexdigest()
        keeps_history = bool((node["config"].get("meta") or {}).get("keeps_history"))
        models[unique_id] = IncrementalModel(unique_id, node["schema"], node["alias"], fingerprint, keeps_history)
    return models


def models_to_derive_again(
    manifest: dict, recorded: dict[str, str], existing: Iterable[tuple[str, str]]
) -> list[IncrementalModel]:
    """Stored incremental models whose definition differs from the one recorded (or was never recorded), and the
    stored incremental models downstream of them, except those that keep history."""
    models = incremental_models(manifest)
    existing = set(existing)
    stored = {model.unique_id for model in models.values() if (model.schema, model.name) in existing}
    changed = [unique_id for unique_id in stored if recorded.get(unique_id) != models[unique_id].fingerprint]
    affected = set(changed)
    pending = list(changed)
    while pending:
        for child in manifest["child_map"].get(pending.pop(), []):
            if child not in affected:
                affected.add(child)
                pending.append(child)
    return sorted(
        (models[unique_id] for unique_id in affected & stored if not models[unique_id].keeps_history),
        key=lambda model: model.unique_id,
    )


def drop_changed_models(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[IncrementalModel]:
    """Drop the incremental models the coming build must derive from raw again; returns them."""
    _ensure_fingerprints_table(con)
    recorded = dict(con.execute("select unique_id, fingerprint from meta.dbt_model_fingerprints").fetchall())
    existing = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
    ).fetchall()
    dropped = models_to_derive_again(manifest, recorded, existing)
    con.execute("begin")
    for model in dropped:
        con.execute(f"drop table {model.relation}")
        con.execute("delete from meta.dbt_model_fingerprints where unique_id = ?", [model.unique_id])
    con.execute("commit")
    return dropped


def record_built_models(con: duckdb.DuckDBPyConnection, manifest: dict, built: Iterable[str]) -> None:
    """Remember what the incremental models among `built` (dbt unique ids that succeeded) were derived with."""
    models = incremental_models(manifest)
    rows = [(unique_id, models[unique_id].fingerprint) for unique_id in built if unique_id in models]
    _ensure_fingerprints_table(con)
    if rows:
        con.executemany(
            "insert or replace into meta.dbt_model_fingerprints values (?, ?, now())",
            rows,
        )


def _ensure_fingerprints_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute(FINGERPRINTS_DDL)


def _project_macros(manifest: dict, node: dict) -> set[str]:
    """The project's own macros a node calls, directly or through other project macros."""
    project = node["package_name"]
    found: set[str] = set()
    pending = list(node["depends_on"].get("macros", []))
    while pending:
        macro_id = pending.pop()
        macro = manifest["macros"].get(macro_id)
        if macro is None or macro_id in found or macro["package_name"] != project:
            continue
        found.add(macro_id)
        pending.extend(macro["depends_on"].get("macros", []))
    return found


def _macro_checksum(manifest: dict, macro_id: str) -> str:
    return hashlib.sha256(manifest["macros"][macro_id]["macro_sql"].encode()).hexdigest()
