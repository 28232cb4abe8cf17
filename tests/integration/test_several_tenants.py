"""Two tenants in one warehouse, sharing every object id (built-in roles, users): nothing leaks between them.

Each tenant is ingested by its own partition run, then one transform models both, as the schedule and the
transform sensor run them."""

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


def second_tenant(root: Path) -> Path:
    """The hand-written tenant under another tenant id, with u1's Global Administrator eligibility gone."""
    copy = shutil.copytree(TENANT, root / "second")
    (copy / "tenant.json").write_text(json.dumps({"tenantId": SECOND_TENANT_ID}))
    remaining = [row for row in json.loads((copy / ELIGIBILITY).read_text()) if row["id"] != "e1-e"]
    (copy / ELIGIBILITY).write_text(json.dumps(remaining))
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
    second_expected = expected | {
        "privileged_access_eligible": 1,
        "privileged_principals": 4,
        "eligible_only_principal_share": 0.25,
    }
    assert {name: metrics[SECOND_TENANT_ID][name] for name in expected} == second_expected
    assert users_per_tenant(tmp_path / "w.duckdb") == {first.tenant_id: 5, SECOND_TENANT_ID: 5}


def users_per_tenant(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select tenant_id, count(*) from raw.users group by 1").fetchall())
