"""The design file's advice section (docs/metrics.md, "Advice from behaviour"): defaults, overrides, mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lib import paths
from pipelines.lib.design import Advice, DesignError, load_design, parse_design
from pipelines.lib.warehouse.design_tables import design_rows


def test_the_shipped_design_states_the_advice_defaults() -> None:
    design = load_design(paths.DEFAULT_DESIGN_FILE)
    assert design.advice == Advice(
        min_activations=10,
        duration_percentile=0.95,
        max_activation_share=0.5,
        min_decisions=10,
        drop_approval_min_rate=0.98,
    )
    assert design_rows(design)["advice"] == [(10, 0.95, 0.5, 10, 0.98)]


def test_an_advice_section_overrides_only_what_it_names() -> None:
    design = parse_design({"advice": {"min_activations": 25, "max_activation_share": 0.25}}, Path("d.yaml"))
    assert design.advice == Advice(min_activations=25, max_activation_share=0.25)
    assert (design.advice.duration_percentile, design.advice.min_decisions) == (0.95, 10)
    assert parse_design({}, Path("d.yaml")).advice == Advice()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"min_activations": 0}, "advice.min_activations: expected at least 1 activation, got 0"),
        ({"min_activations": "ten"}, "advice.min_activations: expected a whole number of 0 or more, got 'ten'"),
        ({"duration_percentile": 95}, "advice.duration_percentile: expected a fraction between 0 and 1"),
        ({"max_activation_share": 0}, "advice.max_activation_share: expected a fraction above 0, got 0"),
        ({"percentile": 0.9}, "advice.percentile: unknown key"),
        ({"min_decisions": 0}, "advice.min_decisions: expected at least 1 decision, got 0"),
        ({"drop_approval_min_rate": 1.5}, "advice.drop_approval_min_rate: expected a fraction between 0 and 1"),
    ],
)
def test_an_advice_mistake_names_its_key(section: dict, message: str) -> None:
    with pytest.raises(DesignError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_design({"advice": section}, Path("d.yaml"))
