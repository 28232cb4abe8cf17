"""The demo tenant's design file, and the alerts and compliance failures planted against it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import orjson

from pipelines.demo_tenant import catalog
from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.model import TenantModel
from pipelines.demo_tenant.programme import COMPLIANCE_RULES, failed_rules, is_after_hours
from pipelines.lib.design import ALERT_RULES, load_design

from .reading import EVERY_SEED, Seeded, Tenant


def test_the_written_design_is_valid_and_tiers_every_role(tenant: Tenant, model: TenantModel) -> None:
    design = load_design(tenant.root / "design.yaml")
    assert design.role_tiers == {role.id: f"tier{role.tier}" for role in model.roles}
    assert sorted(design.break_glass_accounts) == sorted(u.user_principal_name for u in model.users if u.is_break_glass)
    assert design.business_hours.time_zones_by_usage_location["SG"] == "Asia/Singapore"


def test_every_seed_plants_each_alert_kind_and_each_compliance_failure(seeded: Seeded) -> None:
    for size, seed in EVERY_SEED:
        _, truth = seeded(size, seed)
        assert {alert["rule"] for alert in truth.alerts} == set(ALERT_RULES), (size, seed)
        assert {failure["rule"] for failure in truth.compliance_failures} == set(COMPLIANCE_RULES), (size, seed)
        assert truth.metrics["alerts_raised"] == len(truth.alerts)
        assert truth.metrics["role_compliance_failures"] == len(truth.compliance_failures)


def test_ground_truth_lists_alerts_and_failures_in_the_file(tenant: Tenant) -> None:
    written = orjson.loads((tenant.root / "ground_truth.json").read_bytes())
    assert written["alerts"] == list(tenant.truth.alerts)
    assert Counter(a["rule"] for a in written["alerts"])["too_many_global_admins"] == 1


def test_global_administrator_and_privileged_role_administrator_always_require_approval(model: TenantModel) -> None:
    tiers = {role.id: role.tier for role in model.roles}
    for policy in model.policies:
        if policy.role_id in (catalog.GLOBAL_ADMINISTRATOR, catalog.PRIVILEGED_ROLE_ADMINISTRATOR):
            assert "approval_required" not in failed_rules(policy, tiers[policy.role_id])


def test_after_hours_is_local_time_outside_eight_to_nineteen_on_weekdays() -> None:
    monday_0930_utc = from_datetime(datetime(2026, 6, 1, 9, 30, tzinfo=UTC))
    assert not is_after_hours(monday_0930_utc, "Asia/Singapore")  # 17:30 local
    assert is_after_hours(monday_0930_utc, "Australia/Sydney")  # 19:30 local
    saturday_noon = from_datetime(datetime(2026, 6, 6, 12, 0, tzinfo=UTC))
    assert is_after_hours(saturday_noon, "Europe/London")
