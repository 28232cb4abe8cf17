"""The raw-table gate on partitioned raw assets still blocks dbt: it runs in the unpartitioned transform, on the
latest load of every tenant, before any model reads the raw tables."""

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.definitions import defs
from pipelines.defs.automation import TRANSFORM_JOB
from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV
from pipelines.lib.design import DESIGN_ENV

AUDIT = (
    '{"activityDateTime": "2026-11-01T10:00:00Z", "activityDisplayName": "Add member to role", "loggedByService": "%s"}'
)


def warehouse_with_audits(path: Path, services_by_tenant: dict[str, str]) -> Path:
    """One landed audit event per tenant, each tenant's in its own load, as two partition runs leave them."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create schema meta")
        con.execute("create table meta.loads (load_id varchar, tenant_id varchar, collection varchar)")
        con.execute("create table raw.directory_audits (tenant_id varchar, load_id varchar, id varchar, record json)")
        for tenant, service in services_by_tenant.items():
            load_id = f"20261101T100000Z-directory_audits-{tenant}"
            con.execute("insert into meta.loads values (?, ?, 'directory_audits')", [load_id, tenant])
            con.execute(
                "insert into raw.directory_audits values (?, ?, ?, ?)",
                [tenant, load_id, f"{tenant}-a1", AUDIT % service],
            )
    return path


def test_a_bad_load_of_one_tenant_stops_the_transform_before_dbt(tmp_path: Path, monkeypatch) -> None:
    warehouse = warehouse_with_audits(tmp_path / "w.duckdb", {"first": "PIM", "second": "Core Directory"})
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    monkeypatch.setenv(DESIGN_ENV, str(paths.DEFAULT_DESIGN_FILE))
    # The transform reads the configuration too: its publications follow the pseudonymise option.
    config = tmp_path / "pimlens.yaml"
    config.write_text("tenants: [{name: first, tenant_id: first, client_id: c, client_secret_env: GATE_SECRET}]\n")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    monkeypatch.setenv("GATE_SECRET", "unused")
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs().resolve_job_def(TRANSFORM_JOB).execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.asset_key == dg.AssetKey(["raw", "directory_audits"])
    ]
    assert not evaluation.passed
    assert evaluation.metadata["rows_checked"].value == 2
    started = {event.step_key for event in result.all_events if event.event_type_value == "STEP_START"}
    assert "pimlens_dbt_models" not in started
    assert not [key for key in result.get_asset_materialization_events() if key.asset_key.path[0] == "marts"]
