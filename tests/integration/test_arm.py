"""Azure RBAC and PIM for Azure resources through azure-core's pipeline, per configured subscription."""

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.demo_tenant import generate_tenant
from pipelines.emulator import EmulatorOptions
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS, Source
from pipelines.lib.ingest import ingest_collection

ARM_SPECS = [spec for spec in COLLECTIONS if spec.source is Source.ARM]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arm") / "tenant"
    generate_tenant(out, size="S", seed=3, as_of=datetime(2026, 11, 1, tzinfo=UTC))
    return out


def subscriptions(tenant: Path) -> list[str]:
    return sorted(path.name for path in (tenant / "arm" / "subscriptions").iterdir())


def records_in_files(tenant: Path, resource: str) -> set[str]:
    ids = set()
    for subscription in subscriptions(tenant):
        file = tenant / "arm" / "subscriptions" / subscription / "providers" / "Microsoft.Authorization" / resource
        if file.with_suffix(".json").exists():
            ids |= {row["id"] for row in json.loads(file.with_suffix(".json").read_text())}
    return ids


def reader(emulator, options: EmulatorOptions, subs: list[str]) -> TenantSettings:
    return TenantSettings(
        name="arm",
        tenant_id=emulator.tenant_id,
        client_id=options.client_id,
        client_secret=options.client_secret,
        graph_url=emulator.url,
        authority_url=emulator.url,
        management_url=emulator.url,
        ca_bundle=emulator.ca_file,
        azure_subscriptions=tuple(subs),
    )


def test_every_arm_collection_lands_exactly_what_each_subscription_serves(tenant, serve_tenant, tmp_path) -> None:
    options = EmulatorOptions()
    settings = reader(serve_tenant(tenant, options), options, subscriptions(tenant))
    warehouse = tmp_path / "w.duckdb"
    for spec in ARM_SPECS:
        report = ingest_collection(settings, spec, warehouse)
        assert report.status == "ok", spec.table
        resource = spec.path.rsplit("/", 1)[1]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            landed = {row[0] for row in con.execute(f"select id from raw.{spec.table}").fetchall()}
        assert landed == records_in_files(tenant, resource), spec.table
    assert landed  # the tenant has Azure role assignments, so the comparison above compared something


def test_without_reader_on_the_subscription_arm_is_forbidden_and_recorded(tenant, serve_tenant, tmp_path) -> None:
    options = EmulatorOptions(granted_permissions={"RoleManagement.Read.Directory"})
    settings = reader(serve_tenant(tenant, options), options, subscriptions(tenant))
    report = ingest_collection(settings, ARM_SPECS[0], tmp_path / "w.duckdb")
    assert report.status == "forbidden"
    assert "AuthorizationFailed" in (report.error or "")
