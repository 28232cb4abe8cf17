"""Advice from behaviour in the demo tenant (advice_truth.py): the reference it shares with the dbt project, its
percentile, and every kind planted whatever the seed."""

from __future__ import annotations

import csv

import pytest

from pipelines.demo_tenant import build_model
from pipelines.demo_tenant.advice_truth import (
    ADVICE_KINDS,
    FITS_ONE_ROLE,
    ROLES_AUDITED_ELSEWHERE,
    UNKNOWN,
    nearest_rank,
)
from pipelines.demo_tenant.clock import from_datetime
from pipelines.demo_tenant.ground_truth import compute_ground_truth
from pipelines.lib import paths

from .reading import AS_OF


def test_the_roles_audited_elsewhere_agree_with_the_dbt_seed() -> None:
    with (paths.DBT_PROJECT_DIR / "seeds" / "roles_audited_elsewhere.csv").open(encoding="utf-8") as seed:
        assert {row["template_id"] for row in csv.DictReader(seed)} == ROLES_AUDITED_ELSEWHERE


@pytest.mark.parametrize(
    ("values", "percentile", "expected"),
    [([5, 1, 3], 0.95, 5), (list(range(1, 21)), 0.95, 19), (list(range(1, 21)), 0.5, 10), ([7], 0.95, 7)],
)
def test_the_percentile_is_the_nearest_rank(values: list[int], percentile: float, expected: int) -> None:
    assert nearest_rank(values, percentile) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_seed_plants_each_kind_of_advice(seed: int) -> None:
    truth = compute_ground_truth(build_model("S", seed, from_datetime(AS_OF)))
    rows = truth.surfaces["policy_advice"]
    assert {row["advice_kind"] for row in rows} == set(ADVICE_KINDS)
    assert all(truth.metrics[f"advice_{kind}"] >= 1 for kind in ADVICE_KINDS)
    verdicts = {row.get("lesser_role_verdict") for row in rows if row["advice_kind"] == "lesser_role"}
    assert {FITS_ONE_ROLE, UNKNOWN} <= verdicts
    # The planted short habit: its role's maximum is advised down to the 2 hours its holders ask for at most.
    assert any(row["advised_max_activation_hours"] <= 2 for row in rows if row["advice_kind"] == "lower_max_activation")
