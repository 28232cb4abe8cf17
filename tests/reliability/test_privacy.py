"""With ``pseudonymise`` on, nothing personal leaves the raw layer, and what the pipeline writes is private.

The pseudonymised refresh read here is the rerun of the shared killed site (killed_site.py): a refresh after three
killed ones, which must leak nothing either."""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import scratch_root
from pipelines.lib.warehouse.publish import analytics_path

from .conftest import (
    Baseline,
    file_mode,
    leaked,
    personal_values,
    published_metrics_equal_truth,
    strings_in_database,
    strings_in_parquet,
)
from .killed_site import KilledSite

pytestmark = pytest.mark.slow


def leaked_into_report(reports: Path, personal: set[str]) -> set[str]:
    """The personal values (of 8 characters or more, so no common word) the report's pages show."""
    text = "".join(page.read_text(encoding="utf-8") for page in reports.glob("*.html"))
    assert "</html>" in text, reports
    return {value for value in personal if value and len(value) >= 8 and html.escape(value) in text}


def test_pseudonymised_analytics_and_exports_hold_no_personal_value_and_files_are_private(
    baseline: Baseline, killed_site: KilledSite
) -> None:
    personal = personal_values(baseline.site.tenant.directory)
    # The check can fail: the baseline, published without the option, shows the names.
    assert leaked(strings_in_database(analytics_path(baseline.site.warehouse)), personal)

    site = killed_site.site
    assert site.pseudonymise
    analytics, exports = analytics_path(site.warehouse), site.folder / "exports"
    assert leaked(strings_in_database(analytics), personal) == set()
    assert leaked(strings_in_parquet(exports), personal) == set()
    with duckdb.connect(str(analytics), read_only=True) as con:
        upns = con.execute("select distinct user_principal_name from marts.fct_principal_activations_monthly")
        upns = [row[0] for row in upns.fetchall() if row[0] is not None]
        assert upns and all(upn.startswith("pn_") and upn.endswith("@pseudonymised.invalid") for upn in upns)
        assert con.execute("select is_pseudonymised from meta.publication").fetchone() == (True,)
    # Pseudonyms change no number.
    assert published_metrics_equal_truth(site.warehouse, site.tenant) == []
    # The stakeholder report is made from the analytics file: its pages name nobody either (the baseline's do).
    assert leaked_into_report(baseline.site.folder / "reports", personal)
    assert leaked_into_report(site.folder / "reports", personal) == set()

    # The export holds the Power BI project's folders beside the Parquet files: each file and folder is private.
    exported = list(exports.rglob("*"))
    assert any(path.is_dir() for path in exported)
    reports = site.folder / "reports"
    for file in (site.warehouse, analytics, *reports.glob("*.html"), *(path for path in exported if path.is_file())):
        assert file_mode(file) == 0o640, file
    for folder in (exports, reports, scratch_root(site.warehouse), *(path for path in exported if path.is_dir())):
        assert file_mode(folder) == 0o750, folder
