"""The raw freshness check invoked directly: a collection some tenant has not had read for 36 hours warns, naming
the tenant; one every tenant had read recently passes."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.ingest.freshness import CHECK_NAME, raw_freshness
from pipelines.defs.resources import PimlensSource, Warehouse
from pipelines.lib.warehouse.schema import ensure_meta

TENANTS = {"contoso": "10000000-0000-0000-0000-000000000001", "fabrikam": "10000000-0000-0000-0000-000000000002"}


def configuration(tmp_path: Path) -> PimlensSource:
    lines = [
        f"  - {{name: {name}, tenant_id: {tenant_id}, credential: managed_identity}}"
        for name, tenant_id in TENANTS.items()
    ]
    (tmp_path / "pimlens.yaml").write_text("tenants:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return PimlensSource(config_file=str(tmp_path / "pimlens.yaml"))


def warehouse_read(tmp_path: Path, reads: list[tuple[str, str, timedelta]]) -> Warehouse:
    path = tmp_path / "w.duckdb"
    now = datetime.now(UTC)
    with duckdb.connect(str(path)) as con:
        ensure_meta(con)
        for tenant, collection, ago in reads:
            con.execute(
                "insert into meta.coverage (tenant_id, collection, checked_at, status, permission, rows_received, "
                "pages, requests, throttled) values (?, ?, ?, 'ok', 'User.Read.All', 1, 1, 1, 0)",
                [TENANTS[tenant], collection, now - ago],
            )
    return Warehouse(path=str(path))


def test_a_tenant_not_read_for_36_hours_warns_by_name(tmp_path: Path) -> None:
    warehouse = warehouse_read(
        tmp_path,
        [
            ("contoso", "users", timedelta(hours=2)),
            ("fabrikam", "users", timedelta(hours=1)),
            # An older read of fabrikam's groups, then none for 40 hours.
            ("contoso", "groups", timedelta(hours=3)),
            ("fabrikam", "groups", timedelta(hours=70)),
            ("fabrikam", "groups", timedelta(hours=40)),
        ],
    )
    users, groups = dg.AssetKey(["raw", "users"]), dg.AssetKey(["raw", "groups"])
    context = dg.build_asset_check_context()
    results = {
        result.asset_key: result
        for result in raw_freshness(context, warehouse=warehouse, pimlens=configuration(tmp_path))
    }
    # One result per raw collection; one no run ever read is stale for every tenant.
    assert len(results) == len(raw_freshness.check_specs)
    never = results[dg.AssetKey(["raw", "directory_audits"])]
    assert never.description == "not read for over 36h: contoso, fabrikam"
    assert never.metadata["hours_since_read_contoso"].value is None
    assert CHECK_NAME == "read_within_36h"
    assert results[users].passed
    assert results[users].metadata["hours_since_read_contoso"].value == 2.0
    assert not results[groups].passed
    assert results[groups].severity == dg.AssetCheckSeverity.WARN
    assert results[groups].description == "not read for over 36h: fabrikam"
    assert results[groups].metadata["hours_since_read_fabrikam"].value == 40.0
