"""A tenant whose reader app lacks a permission: the gap is recorded and its metrics read as unknown."""

from pathlib import Path

import duckdb
import pytest

from pipelines.emulator import EmulatorOptions
from pipelines.lib.graph.collections import COLLECTIONS

from .conftest import load_json

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
AUDIT_METRICS = {"activation_requests", "approval_rate", "median_approval_latency_seconds"}

pytestmark = pytest.mark.slow


def test_missing_audit_permission_is_reported_and_only_its_metrics_are_unknown(serve_tenant, run_pipeline) -> None:
    granted = {spec.permission for spec in COLLECTIONS} | {"Directory.Read.All"}
    options = EmulatorOptions(granted_permissions=granted - {"AuditLog.Read.All"})
    run = run_pipeline(serve_tenant(TENANT, options), options=options)
    assert run.result.success

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        coverage = con.execute(
            "select collection, coverage_status, http_status, permission from staging.stg_meta__coverage"
        ).fetchall()
    not_covered = [row for row in coverage if row[1] != "ok"]
    assert not_covered == [("directory_audits", "forbidden", 403, "AuditLog.Read.All")]

    expected = load_json(TENANT / "expected_metrics.json")
    measured = run.metrics(load_json(TENANT / "tenant.json")["tenantId"])
    assert {name for name, value in measured.items() if value is None} == AUDIT_METRICS
    assert {name: value for name, value in measured.items() if name not in AUDIT_METRICS} == {
        name: value for name, value in expected.items() if name not in AUDIT_METRICS
    }
