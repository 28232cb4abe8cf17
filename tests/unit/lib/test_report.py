"""The stakeholder report's parts without a pipeline: charts, pages, file names and the command's errors.

The end-to-end module opens a real run's report in a browser and holds each chart to its mart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.lib.report import svg
from pipelines.lib.report.build import page_names
from pipelines.lib.report.data import Publication, TenantReport
from pipelines.lib.report.findings import Finding, _headline_finding
from pipelines.lib.report.page import CSP, index_page, tenant_page


def points(html: str, chart: str, series: str) -> int:
    block = re.search(rf'<svg class="chart" data-chart="{chart}".*?</svg>', html, re.S)
    assert block, chart
    return block.group(0).count(f'class="point" data-series="{series}"')


def test_a_line_chart_has_a_point_per_known_value_and_escapes_its_labels() -> None:
    chart = svg.line_chart(
        "c",
        ["<day 1>", "day 2", "day 3"],
        [svg.Series("a", "a & b", "#000", [1, None, 3]), svg.Series("b", "b", "#000", [0, 0, 0])],
    )
    assert points(chart, "c", "a") == 2 and points(chart, "c", "b") == 3
    assert "<day 1>" not in chart and "&lt;day 1&gt;" in chart and "a &amp; b" in chart


def test_bars_of_zero_are_drawn_and_counted() -> None:
    chart = svg.bar_chart("c", ["w1", "w2"], [svg.Series("s", "standing", "#000", [0, 5])])
    assert points(chart, "c", "s") == 2


def report(**headline: float | None) -> TenantReport:
    return TenantReport("t1", "contoso", True, datetime(2026, 11, 1, tzinfo=UTC), headline=headline)


def test_a_chart_whose_surface_was_not_read_says_unknown_and_one_with_no_rows_says_none() -> None:
    publication = Publication(datetime(2026, 11, 1, tzinfo=UTC), False, [])
    unread = tenant_page(report(activation_requests=None, standing_privileged_access=3), publication, "index.html")
    read = tenant_page(report(activation_requests=12, standing_privileged_access=3), publication, "index.html")
    assert "Unknown: the approval decisions could not be read" in unread
    assert "None: the tenant has no approval decisions" in read
    assert "Unknown" not in read.split("Approval rate and latency")[1].split("</section>")[0]
    # The tiles: a metric that is null is unknown, one the warehouse does not have is "not computed", never 0.
    assert '<b><span class="unknown">unknown</span></b><span>approval rate' not in unread
    assert '<span class="unknown">not computed</span></b><span>approval rate' in unread


def test_a_page_fetches_nothing_and_runs_nothing() -> None:
    tenant = report(standing_privileged_access=3)
    tenant.standing = [(date(2026, 10, 31), 3, 5, 1), (date(2026, 11, 1), 2, 6, 1)]
    tenant.has_waves = True
    publication = Publication(datetime(2026, 11, 1, tzinfo=UTC), True, [tenant])
    html = tenant_page(tenant, publication, "index.html")
    assert f'content="{CSP}"' in html and "default-src 'none'" in CSP
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == ["index.html"]
    assert points(html, "standing", "target") == 2
    assert "keyed pseudonyms" in html
    assert 'href="contoso.html"' in index_page(publication, {"t1": "contoso.html"})


def test_page_names_are_safe_and_never_shared() -> None:
    names = page_names({"a": "Contoso EU", "b": "contoso/EU", "c": "index", "d": "../.."})
    assert names["a"] == "Contoso-EU.html"
    assert names["b"] == "contoso-EU.html"
    assert names["c"] == "index-c.html"
    assert names["d"] == "tenant.html"
    assert len(set(names.values())) == 4


def test_findings_rank_by_severity_then_size_and_headline_thresholds_follow_the_rules() -> None:
    def finding(severity: str, count: int) -> Finding:
        return Finding(f"{severity} {count}", severity, count, "rows", (), "", "fct_alerts")

    ranked = sorted(
        [finding("medium", 50), finding("critical", 1), finding("high", 3), finding("high", 9)], key=lambda f: f.rank
    )
    assert [f.title for f in ranked] == ["critical 1", "high 9", "high 3", "medium 50"]
    assert _headline_finding("global_admins", 8) is None and _headline_finding("global_admins", 2) is None
    assert _headline_finding("global_admins", 9).severity == "high"
    assert _headline_finding("global_admins", 1).count == 1
    assert _headline_finding("privileged_guests", 0) is None


def test_report_of_a_file_that_is_no_analytics_database_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    assert cli.main(["report", "--warehouse", str(empty)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"pimlens report: {empty} is not an analytics database (")
    assert not (tmp_path / "reports").exists()
