"""After an upgrade, incremental models whose definition changed are dropped so the build derives them from raw."""

import copy
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import paths
from pipelines.lib.warehouse.model_upgrades import (
    drop_changed_models,
    incremental_models,
    models_to_derive_again,
    record_built_models,
)

AUDITS = "model.pimlens.stg_graph__directory_audits"
REQUESTS = "model.pimlens.fct_activation_requests"
ALERTS = "model.pimlens.fct_alerts"


def _model(name: str, schema: str, sql: str, macros: list[str], meta: dict | None = None) -> dict:
    return {
        "resource_type": "model",
        "package_name": "pimlens",
        "schema": schema,
        "alias": name,
        "checksum": {"name": "sha256", "checksum": sql},
        "config": {"materialized": "incremental", "unique_key": "id", "meta": meta or {}},
        "depends_on": {"macros": macros},
    }


@pytest.fixture
def manifest() -> dict:
    """The audit staging, the requests folded from it with a project macro, and the alerts that keep history."""
    return {
        "nodes": {
            AUDITS: _model("stg_graph__directory_audits", "staging", "a1", []),
            REQUESTS: _model("fct_activation_requests", "marts", "r1", ["macro.pimlens.fold"]),
            ALERTS: _model("fct_alerts", "marts", "x1", [], meta={"keeps_history": True}),
            "model.pimlens.dim_roles": {**_model("dim_roles", "marts", "d1", []), "config": {"materialized": "table"}},
        },
        "macros": {
            "macro.pimlens.fold": {
                "package_name": "pimlens",
                "macro_sql": "fold v1",
                "depends_on": {"macros": ["macro.pimlens.helper", "macro.dbt.is_incremental"]},
            },
            "macro.pimlens.helper": {"package_name": "pimlens", "macro_sql": "helper v1", "depends_on": {"macros": []}},
            "macro.dbt.is_incremental": {"package_name": "dbt", "macro_sql": "dbt's", "depends_on": {"macros": []}},
        },
        "child_map": {AUDITS: [REQUESTS, ALERTS], REQUESTS: [ALERTS], ALERTS: []},
    }


STORED = [("staging", "stg_graph__directory_audits"), ("marts", "fct_activation_requests"), ("marts", "fct_alerts")]


def _recorded(manifest: dict) -> dict[str, str]:
    return {unique_id: model.fingerprint for unique_id, model in incremental_models(manifest).items()}


def _names(models) -> list[str]:
    return [model.name for model in models]


def test_nothing_is_derived_again_when_nothing_changed(manifest: dict) -> None:
    assert models_to_derive_again(manifest, _recorded(manifest), STORED) == []


def test_a_changed_model_is_derived_again_with_what_reads_it_except_kept_history(manifest: dict) -> None:
    recorded = _recorded(manifest)
    manifest["nodes"][AUDITS]["checksum"]["checksum"] = "a2"
    assert _names(models_to_derive_again(manifest, recorded, STORED)) == [
        "fct_activation_requests",
        "stg_graph__directory_audits",
    ]


def test_a_change_in_a_project_macro_a_model_calls_through_another_counts(manifest: dict) -> None:
    recorded = _recorded(manifest)
    changed = copy.deepcopy(manifest)
    changed["macros"]["macro.pimlens.helper"]["macro_sql"] = "helper v2"
    assert _names(models_to_derive_again(changed, recorded, STORED)) == ["fct_activation_requests"]
    # dbt's own macros change with dbt releases, not with pimlens' definitions.
    changed = copy.deepcopy(manifest)
    changed["macros"]["macro.dbt.is_incremental"]["macro_sql"] = "dbt's, next release"
    assert models_to_derive_again(changed, recorded, STORED) == []


def test_a_change_of_the_unique_key_counts(manifest: dict) -> None:
    recorded = _recorded(manifest)
    manifest["nodes"][REQUESTS]["config"]["unique_key"] = ["tenant_id", "id"]
    assert _names(models_to_derive_again(manifest, recorded, STORED)) == ["fct_activation_requests"]


def test_models_never_recorded_are_derived_again_and_missing_tables_are_left_to_dbt(manifest: dict) -> None:
    assert _names(models_to_derive_again(manifest, {}, STORED[:2])) == [
        "fct_activation_requests",
        "stg_graph__directory_audits",
    ]


def test_a_model_that_keeps_history_is_never_dropped_even_when_it_changed(manifest: dict) -> None:
    recorded = _recorded(manifest)
    manifest["nodes"][ALERTS]["checksum"]["checksum"] = "x2"
    assert models_to_derive_again(manifest, recorded, STORED) == []


def test_the_project_manifest_marks_the_alert_log_as_kept_history() -> None:
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = incremental_models(manifest)
    assert {model.name for model in models.values() if model.keeps_history} == {"fct_alerts"}
    assert "fct_activation_requests" in {model.name for model in models.values()}


def test_a_warehouse_built_by_an_older_definition_loses_only_the_derived_tables(manifest: dict, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for schema, table in [*STORED, ("raw", "directory_audits")]:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} as select 1 as id")
        record_built_models(con, manifest, [AUDITS, REQUESTS, ALERTS, "model.pimlens.dim_roles"])
        assert drop_changed_models(con, manifest) == []

    manifest["nodes"][AUDITS]["checksum"]["checksum"] = "a2"
    with duckdb.connect(str(warehouse)) as con:
        assert _names(drop_changed_models(con, manifest)) == ["fct_activation_requests", "stg_graph__directory_audits"]
        tables = {
            row[0] for row in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        }
        assert tables == {"raw.directory_audits", "marts.fct_alerts", "meta.dbt_model_fingerprints"}
        # Until the build records them again, the dropped models stay due.
        assert set(con.execute("select unique_id from meta.dbt_model_fingerprints").fetchall()) == {(ALERTS,)}
