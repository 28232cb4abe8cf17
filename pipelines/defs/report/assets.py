"""The stakeholder report, after every transform: one HTML page per tenant and an index (docs/report.md)."""

from pathlib import Path

import dagster as dg

from pipelines.defs.exports.assets import analytics_database
from pipelines.defs.resources import OWNERS, Warehouse
from pipelines.lib.report import reports_folder, write_reports
from pipelines.lib.warehouse.publish import analytics_path


@dg.asset(
    key=["reports", "stakeholder_report"],
    deps=[analytics_database],
    group_name="exports",
    kinds={"html"},
    owners=OWNERS,
)
def stakeholder_report(warehouse: Warehouse) -> dg.MaterializeResult:
    """Self-contained HTML pages beside the warehouse (reports/index.html and one per tenant): the charts and the
    findings that most need action, from the analytics database just published. It opens that file read-only, so
    it takes no slot of the writer pool and never holds the warehouse open."""
    written = write_reports(analytics_path(Path(warehouse.path)), reports_folder(Path(warehouse.path)))
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(written[0])),
            "pages": len(written) - 1,
            "bytes": sum(page.stat().st_size for page in written),
        }
    )
