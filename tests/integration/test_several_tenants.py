"""Two tenants in one warehouse, sharing every object id (built-in roles, users): nothing leaks between them."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.emulator import EmulatorOptions
from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV
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
        ]
    }
    (tmp_path / "pimlens.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "pimlens.yaml"))
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("PIMLENS_TEST_SECRET", options.client_secret)
    monkeypatch.setenv(DESIGN_ENV, str(paths.DEFAULT_DESIGN_FILE))
    from pipelines.definitions import defs

    with dg.DagsterInstance.ephemeral() as instance:
        assert defs().resolve_job_def("refresh_warehouse").execute_in_process(instance=instance).success

    metrics = read_headline_metrics(tmp_path / "w.duckdb")
    expected = load_json(TENANT / "expected_metrics.json")
    assert {name: metrics[first.tenant_id][name] for name in expected} == expected
    second_expected = expected | {
        "privileged_access_eligible": 1,
        "privileged_principals": 4,
        "eligible_only_principal_share": 0.25,
    }
    assert {name: metrics[SECOND_TENANT_ID][name] for name in expected} == second_expected
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert dict(con.execute("select tenant_id, count(*) from raw.users group by 1").fetchall()) == {
            first.tenant_id: 5,
            SECOND_TENANT_ID: 5,
        }
