"""A tenant whose reader app lacks a permission: the gap is recorded and its metrics read as unknown.

The tenant is the hand-written one served without AuditLog.Read.All (`no_audit`), one tenant of the shared run
of the hand-written tenant's variants (tests/integration/handwritten_variants.py); its rows are read by its id."""

import csv

import duckdb
import pytest

from pipelines.lib import paths

from .conftest import load_json
from .handwritten_variants import HANDWRITTEN_TENANT as TENANT
from .handwritten_variants import HANDWRITTEN_TENANT_ID, NO_AUDIT_TENANT_ID


def metrics_needing(collection: str) -> set[str]:
    """From the seed that declares each metric's sources, the metrics that need `collection`."""
    with (paths.DBT_PROJECT_DIR / "seeds" / "metric_sources.csv").open(encoding="utf-8") as seed:
        return {row["metric_name"] for row in csv.DictReader(seed) if row["collection"] == collection}


pytestmark = pytest.mark.slow


def test_missing_audit_permission_is_reported_and_only_its_metrics_are_unknown(handwritten_variants_run) -> None:
    run = handwritten_variants_run
    assert run.result.success

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        coverage = con.execute(
            "select collection, coverage_status, http_status, permission from staging.stg_meta__coverage "
            "where tenant_id = ?",
            [NO_AUDIT_TENANT_ID],
        ).fetchall()
    # Azure subscriptions are not configured for this tenant; everything else was granted but the audit log,
    # which both audit streams (PIM's events and the admin tasks) are read from, and the optional Intune and Exchange
    # RBAC permissions.
    not_covered = sorted(row for row in coverage if row[1] != "ok" and not row[0].startswith("arm_"))
    assert not_covered == [
        ("directory_admin_audits", "forbidden", 403, "AuditLog.Read.All"),
        ("directory_audits", "forbidden", 403, "AuditLog.Read.All"),
        ("exchange_role_assignments", "forbidden", 403, "RoleManagement.Read.Exchange"),
        ("exchange_role_definitions", "forbidden", 403, "RoleManagement.Read.Exchange"),
        ("intune_role_assignments", "forbidden", 403, "DeviceManagementRBAC.Read.All"),
        ("intune_role_definitions", "forbidden", 403, "DeviceManagementRBAC.Read.All"),
    ]
    assert {row[1] for row in coverage if row[0].startswith("arm_")} == {"not_configured"}

    audit_metrics = metrics_needing("directory_audits")
    assert {"activation_requests", "approval_rate", "median_approval_latency_seconds"} <= audit_metrics
    measured = run.metrics(NO_AUDIT_TENANT_ID)
    assert {name for name, value in measured.items() if value is None} >= audit_metrics

    # Without the optional permissions the Intune and Exchange inventory is unknown, never zero: the tenant holds none
    # of these roles, and where they were readable (the hand-written tenant itself) it reads a known zero.
    m365_metrics = metrics_needing("intune_role_assignments") | metrics_needing("exchange_role_assignments")
    assert m365_metrics == {
        "intune_role_principals",
        "exchange_role_principals",
        "privileged_principals_with_m365_roles",
    }
    assert {name: measured[name] for name in m365_metrics} == dict.fromkeys(m365_metrics)
    assert {name: run.metrics(HANDWRITTEN_TENANT_ID)[name] for name in m365_metrics} == dict.fromkeys(m365_metrics, 0)
    expected = load_json(TENANT / "expected_metrics.json")
    assert {name: measured[name] for name in expected if name not in audit_metrics} == {
        name: value for name, value in expected.items() if name not in audit_metrics
    }
