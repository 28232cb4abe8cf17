"""Two tenants in one warehouse, sharing every object id (built-in roles, users): nothing leaks between them.

Each tenant is ingested by its own partition run, then one transform models both, as the schedule and the
transform sensor run them."""

import csv
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.definitions import defs
from pipelines.defs.automation import INGEST_JOB, TRANSFORM_JOB, transform_after_ingests
from pipelines.defs.ingest.partitions import sync_tenant_partitions
from pipelines.emulator import EmulatorOptions
from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV
from pipelines.lib.demo_session import tenant_as_of
from pipelines.lib.design import DESIGN_ENV
from pipelines.lib.warehouse.metrics import read_headline_metrics

from .conftest import load_json

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
ELIGIBILITY = "v1.0/roleManagement/directory/roleEligibilityScheduleInstances.json"
SECOND_TENANT_ID = "99999999-2222-4333-8444-555555555555"

pytestmark = pytest.mark.slow


UNKNOWN_ROLE_ID = "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d"  # a deleted custom role: no catalogue knows it


def second_tenant(root: Path) -> Path:
    """The hand-written tenant under another tenant id, with u1's Global Administrator eligibility gone and an
    eligibility for a role id no catalogue knows."""
    copy = shutil.copytree(TENANT, root / "second")
    (copy / "tenant.json").write_text(json.dumps({"tenantId": SECOND_TENANT_ID}))
    remaining = [row for row in json.loads((copy / ELIGIBILITY).read_text()) if row["id"] != "e1-e"]
    unknown = {**remaining[0], "id": "e-unknown", "roleDefinitionId": UNKNOWN_ROLE_ID, "roleEligibilityScheduleId": "x"}
    (copy / ELIGIBILITY).write_text(json.dumps([*remaining, unknown]))
    return copy


def test_each_tenant_gets_its_own_metrics(tmp_path, serve_tenant, monkeypatch) -> None:
    options = EmulatorOptions()
    first, second = serve_tenant(TENANT, options), serve_tenant(second_tenant(tmp_path), options)
    config = {
        "as_of": tenant_as_of(TENANT),  # both tenants are frozen at the hand-written one's instant
        "tenants": [
            {
                "name": name,
                "tenant_id": emulator.tenant_id,
                "client_id": options.client_id,
                "client_secret_env": "PIMLENS_TEST_SECRET",
                "graph_url": emulator.url,
                "authority_url": emulator.url,
                "ca_bundle": str(emulator.ca_file),
            }
            for name, emulator in (("first", first), ("second", second))
        ],
    }
    (tmp_path / "pimlens.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "pimlens.yaml"))
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("PIMLENS_TEST_SECRET", options.client_secret)
    monkeypatch.setenv(DESIGN_ENV, str(paths.DEFAULT_DESIGN_FILE))
    definitions = defs()
    with dg.instance_for_test() as instance:
        sync_tenant_partitions(instance, ["first", "second"])
        ingest = definitions.resolve_job_def(INGEST_JOB)
        assert ingest.execute_in_process(instance=instance, partition_key="first").success
        # One partition's run reads its tenant only.
        assert users_per_tenant(tmp_path / "w.duckdb") == {first.tenant_id: 5}
        assert ingest.execute_in_process(instance=instance, partition_key="second").success
        # Both ingests done: the sensor asks for the one transform of every tenant.
        tick = transform_after_ingests(dg.build_sensor_context(instance=instance))
        assert isinstance(tick, dg.SensorResult) and len(tick.run_requests) == 1
        assert definitions.resolve_job_def(TRANSFORM_JOB).execute_in_process(instance=instance).success

    metrics = read_headline_metrics(tmp_path / "w.duckdb")
    expected = load_json(TENANT / "expected_metrics.json")
    assert {name: metrics[first.tenant_id][name] for name in expected} == expected
    # One unknown role id in the second tenant: every tenant's marts are built, the first tenant's metrics stand,
    # and the second's access metrics read unknown (one access row in a handful is above the 1 % share), its
    # activation metrics, which the unknown role does not feed, stay known.
    with (paths.DBT_PROJECT_DIR / "seeds" / "metric_quality_checks.csv").open() as seed:
        access_metrics = {
            row["metric_name"] for row in csv.DictReader(seed) if row["quality_check"] == "unknown_role_ids"
        }
    second_expected = {name: None if name in access_metrics else value for name, value in expected.items()}
    assert {name: metrics[SECOND_TENANT_ID][name] for name in expected} == second_expected
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        quality = con.execute(
            "select tenant_id, rows_not_understood, is_above_threshold from marts.fct_unreadable_inputs "
            "where quality_check = 'unknown_role_ids' order by tenant_id"
        ).fetchall()
        assert sorted(quality) == sorted([(first.tenant_id, 0, False), (SECOND_TENANT_ID, 1, True)])
        role = con.execute(
            "select role_name, is_unknown_role from marts.dim_roles where role_definition_id = ?", [UNKNOWN_ROLE_ID]
        ).fetchall()
        assert role == [(f"unknown role {UNKNOWN_ROLE_ID}", True)]
    assert users_per_tenant(tmp_path / "w.duckdb") == {first.tenant_id: 5, SECOND_TENANT_ID: 5}


def users_per_tenant(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select tenant_id, count(*) from raw.users group by 1").fetchall())
