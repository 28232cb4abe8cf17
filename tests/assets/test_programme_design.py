"""The design asset invoked directly: a valid file becomes the design tables, a bad one fails naming the key."""

from pathlib import Path

import duckdb
import pytest

from pipelines.defs.design.assets import programme_design
from pipelines.defs.resources import PimlensSource, ProgrammeDesign, Warehouse
from pipelines.lib import paths
from pipelines.lib.design import DesignError

TENANT_ID = "00000000-0000-0000-0000-0000000000aa"


def pimlens_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PimlensSource:
    """A configuration of one tenant, whose name design.tenants must carry."""
    monkeypatch.setenv("PIMLENS_TEST_SECRET", "not used")
    config = tmp_path / "pimlens.yaml"
    config.write_text(
        f"tenants:\n  - name: contoso\n    tenant_id: {TENANT_ID}\n"
        "    client_id: 00000000-0000-0000-0000-0000000000bb\n    client_secret_env: PIMLENS_TEST_SECRET\n",
        encoding="utf-8",
    )
    return PimlensSource(config_file=str(config))


def test_writes_the_default_design_as_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    result = programme_design(
        design=ProgrammeDesign(design_file=str(paths.DEFAULT_DESIGN_FILE)),
        warehouse=warehouse,
        pimlens=pimlens_source(tmp_path, monkeypatch),
    )
    assert result.metadata["rows"]["tier_requirements"] == 3
    with duckdb.connect(warehouse.path, read_only=True) as con:
        tier0 = con.execute(
            "select is_approval_required, min_approvers, max_activation_seconds from design.tier_requirements "
            "where tier = 'tier0'"
        ).fetchone()
        thresholds = con.execute(
            "select repeated_activation_count, stale_eligibility_days from design.alert_thresholds"
        ).fetchall()
        weekdays = con.execute("select iso_weekdays from design.business_hours").fetchone()[0]
        review_cadence = con.execute("select max_days_since_review from design.access_reviews").fetchall()
        tenants = con.execute("select tenant_id, tenant_name from design.tenants").fetchall()
    assert tenants == [(TENANT_ID, "contoso")]
    assert tier0 == (True, 2, 28800)
    assert thresholds == [(3, 30)]
    assert review_cadence == [(31,)]
    assert weekdays == [1, 2, 3, 4, 5]


def test_a_bad_file_fails_and_leaves_the_previous_design_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    pimlens = pimlens_source(tmp_path, monkeypatch)
    programme_design(
        design=ProgrammeDesign(design_file=str(paths.DEFAULT_DESIGN_FILE)), warehouse=warehouse, pimlens=pimlens
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers:\n  tier0:\n    max_activation: two hours\n", encoding="utf-8")
    with pytest.raises(DesignError, match=r"tiers\.tier0\.max_activation: expected an ISO-8601 duration"):
        programme_design(design=ProgrammeDesign(design_file=str(bad)), warehouse=warehouse, pimlens=pimlens)
    with duckdb.connect(warehouse.path, read_only=True) as con:
        assert con.execute(
            "select max_activation_seconds from design.tier_requirements where tier = 'tier0'"
        ).fetchone() == (28800,)
