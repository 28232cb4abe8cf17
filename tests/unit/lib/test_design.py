"""The programme design file: the shipped default loads, and every mistake names its key."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
import yaml

from pipelines.lib import paths
from pipelines.lib.design import DesignError, load_design, parse_design, parse_duration


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_shipped_default_design_loads_with_pim_rules_defaults() -> None:
    design = load_design(paths.DEFAULT_DESIGN_FILE)
    tier0 = design.tiers["tier0"]
    assert (tier0.approval_required, tier0.min_approvers, tier0.max_activation_seconds) == (True, 2, 8 * 3600)
    assert tier0.permanent_eligibility_allowed is False
    assert design.tiers["tier2"].approval_required is None  # no requirement, not "must be off"
    assert design.alert_thresholds.repeated_activation_count == 3
    assert design.alert_thresholds.too_many_global_admins_share == 0.1
    assert (design.business_hours.start, design.business_hours.end) == (time(8), time(19))
    assert design.access_reviews.max_days_since_review == 31  # rule 15: monthly or more often
    assert (design.data_quality.max_quarantined_records, design.data_quality.max_collection_age_seconds) == (
        100,
        3 * 24 * 3600,
    )
    assert design.unreadable_inputs.max_unreadable_share == 0.01
    assert design.expiring_access.horizon_days == 30


def test_a_full_design_parses_every_section(tmp_path: Path) -> None:
    design = load_design(
        write(
            tmp_path,
            {
                "tiers": {"tier0": {"max_activation": "PT2H", "ticket_required": True}},
                "role_tiers": {"29232cdf-9323-42fd-ade2-1d097af3e4de": "tier0"},
                "break_glass_accounts": ["bg1@contoso.onmicrosoft.com"],
                "approvers": {"tier0": ["ciso@contoso.com"]},
                "business_hours": {"time_zones_by_usage_location": {"NL": "Europe/Amsterdam"}, "days": ["mon"]},
                "rollout": {
                    "baseline_date": "2026-01-01",
                    "waves": [{"name": "w1", "starts_on": "2026-02-01", "departments": ["IT"]}],
                },
                "alert_thresholds": {"repeated_activation": {"window": "PT30M", "count": 4}},
                "access_reviews": {"max_days_since_review": 92},
                "unreadable_inputs": {"max_unreadable_share": 0.05},
                "expiring_access": {"horizon_days": 14},
            },
        )
    )
    assert design.tiers["tier0"].max_activation_seconds == 7200
    assert design.role_tiers == {"29232cdf-9323-42fd-ade2-1d097af3e4de": "tier0"}
    assert design.baseline_date == date(2026, 1, 1)
    assert design.waves[0].starts_on == date(2026, 2, 1)
    assert design.business_hours.time_zones_by_usage_location == {"NL": "Europe/Amsterdam"}
    assert design.alert_thresholds.repeated_activation_window_seconds == 1800
    assert design.alert_thresholds.repeated_activation_count == 4
    assert design.alert_thresholds.stale_eligibility_days == 30  # untouched defaults stay
    assert design.alert_thresholds.stale_sign_in_days == 30
    assert design.access_reviews.max_days_since_review == 92
    assert design.unreadable_inputs.max_unreadable_share == 0.05
    assert design.expiring_access.horizon_days == 14


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"tiers": {"tier0": {"max_activation": "two hours"}}},
            "tiers.tier0.max_activation: expected an ISO-8601 duration like PT2H, got 'two hours'",
        ),
        ({"tiers": {"tier0": {"aproval_required": True}}}, "tiers.tier0.aproval_required: unknown key"),
        ({"tiers": {"tier3": {}}}, "tiers.tier3: unknown key"),
        ({"colour": "blue"}, ": colour: unknown key"),
        (
            {"tiers": {"tier1": {"mfa_on_activation": "yes"}}},
            "tiers.tier1.mfa_on_activation: expected true or false, got 'yes'",
        ),
        ({"tiers": {"tier0": {"min_approvers": -1}}}, "tiers.tier0.min_approvers: expected a whole number"),
        (
            {"role_tiers": {"62e90394-69f5-4237-9190-012177145e10": "gold"}},
            "role_tiers.62e90394-69f5-4237-9190-012177145e10: expected one of tier0, tier1, tier2, got 'gold'",
        ),
        ({"break_glass_accounts": "bg@contoso.com"}, "break_glass_accounts: expected a list of non-empty strings"),
        ({"business_hours": {"start": "8am"}}, "business_hours.start: expected a time of day like 08:00, got '8am'"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "business_hours.end: expected a time after start"),
        ({"business_hours": {"days": ["monday"]}}, "business_hours.days[0]: expected one of mon"),
        (
            {"business_hours": {"time_zones_by_usage_location": {"NL": "Europe/Amsterdamm"}}},
            "business_hours.time_zones_by_usage_location.NL: expected an IANA time zone",
        ),
        ({"rollout": {"baseline_date": "last year"}}, "rollout.baseline_date: expected a date like 2026-01-31"),
        (
            {"rollout": {"waves": [{"name": "w", "starts_on": "2026-02-30"}]}},
            "rollout.waves[0].starts_on: expected a date",
        ),
        (
            {"rollout": {"waves": [{"name": "w", "starts_on": "2026-02-01", "size": 3}]}},
            "rollout.waves[0].size: unknown key",
        ),
        (
            {"alert_thresholds": {"too_many_global_admins": {"share": 10}}},
            "alert_thresholds.too_many_global_admins.share: expected a fraction between 0 and 1",
        ),
        (
            {"alert_thresholds": {"stale_eligibility": {"window": "P30D"}}},
            "alert_thresholds.stale_eligibility.window: unknown key",
        ),
        (
            {"access_reviews": {"max_days_since_review": "monthly"}},
            "access_reviews.max_days_since_review: expected a whole number of 0 or more, got 'monthly'",
        ),
        ({"access_reviews": {"max_days_since_review": 0}}, "access_reviews.max_days_since_review: expected at least 1"),
        ({"access_reviews": {"cadence": "P1M"}}, "access_reviews.cadence: unknown key"),
        ({"expiring_access": {"horizon_days": 0}}, "expiring_access.horizon_days: expected at least 1 day"),
        (
            {"data_quality": {"max_quarantined_records": -1}},
            "data_quality.max_quarantined_records: expected a whole number of 0 or more",
        ),
        ({"data_quality": {"max_collection_age": "PT0S"}}, "data_quality.max_collection_age: expected a duration"),
        ({"data_quality": {"max_collection_age": "3 days"}}, "data_quality.max_collection_age: expected an ISO-8601"),
        (
            {"unreadable_inputs": {"max_unreadable_share": "1%"}},
            "unreadable_inputs.max_unreadable_share: expected a fraction between 0 and 1",
        ),
        ({"version": 2}, "version: expected 1, got 2"),
        ({"alerts": {"event_alert_max_age": "a week"}}, "alerts.event_alert_max_age: expected an ISO-8601 duration"),
        ({"alerts": {"severity": {"after_hours": "low"}}}, "alerts.severity.after_hours: unknown key"),
        ({"alerts": {"severity": {"break_glass_used": "urgent"}}}, "alerts.severity.break_glass_used: expected one of"),
        (
            {"alerts": {"suppressions": [{"rule": "after_hours_activation", "principal": "a@b"}]}},
            "alerts.suppressions[0].reason: required",
        ),
        ({"alert_thresholds": {"after_hours": {"baseline": 30}}}, "alert_thresholds.after_hours.baseline: expected"),
    ],
)
def test_every_mistake_names_its_key(tmp_path: Path, document: dict, message: str) -> None:
    with pytest.raises(DesignError) as error:
        load_design(write(tmp_path, document))
    assert message in str(error.value)
    assert str(tmp_path / "design.yaml") in str(error.value)


def test_a_missing_file_names_the_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="PIMLENS_DESIGN"):
        load_design(tmp_path / "nowhere.yaml")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(DesignError, match="the design: expected a mapping"):
        parse_design(["tiers"], Path("x.yaml"))


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT8H", 28800), ("PT30M", 1800), ("P1DT2H", 93600), ("P365D", 31536000), ("PT45S", 45)]
)
def test_durations_are_iso_8601(text: str, seconds: int) -> None:
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize("text", ["P", "PT", "8h", "P1DT", 8, None])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(DesignError, match="x: expected an ISO-8601 duration"):
        parse_duration(text, "x")


def test_the_alert_lifecycle_section_parses_and_defaults_to_a_week(tmp_path: Path) -> None:
    assert load_design(paths.DEFAULT_DESIGN_FILE).alerts.event_alert_max_age_seconds == 7 * 24 * 3600
    design = load_design(
        write(
            tmp_path,
            {
                "alerts": {
                    "event_alert_max_age": "P2D",
                    "severity": {"after_hours_activation": "low"},
                    "suppressions": [
                        {
                            "rule": "after_hours_activation",
                            "principal": "OnCall@Contoso.test",
                            "until": "2027-03-31",
                            "reason": "on-call rota",
                        }
                    ],
                },
                "alert_thresholds": {"after_hours": {"baseline": "P14D", "usual_count": 0}},
            },
        )
    )
    assert design.alerts.event_alert_max_age_seconds == 2 * 24 * 3600
    assert design.alerts.severity == {"after_hours_activation": "low"}
    [suppression] = design.alerts.suppressions
    assert (suppression.principal, suppression.until) == ("oncall@contoso.test", date(2027, 3, 31))
    assert design.alert_thresholds.after_hours_baseline_seconds == 14 * 24 * 3600
    assert design.alert_thresholds.after_hours_usual_count == 0
