"""The stakeholder report: one self-contained HTML page per tenant and an index, from the analytics database."""

from pipelines.lib.report.build import (
    REPORTS_FOLDER,
    NotAnAnalyticsDatabase,
    report_files,
    reports_folder,
    write_reports,
)

__all__ = ["REPORTS_FOLDER", "NotAnAnalyticsDatabase", "report_files", "reports_folder", "write_reports"]
