"""Writes the report files: reads the published analytics database once, read-only, and renders every tenant."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.lib.files import FOLDER_MODE, replace_file
from pipelines.lib.report.data import NotAnAnalyticsDatabase, read_publication
from pipelines.lib.report.page import index_page, tenant_page
from pipelines.lib.warehouse.locks import lock_holder

REPORTS_FOLDER = "reports"
INDEX_NAME = "index.html"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["REPORTS_FOLDER", "NotAnAnalyticsDatabase", "report_files", "reports_folder", "write_reports"]


def reports_folder(warehouse: Path) -> Path:
    """Where the report of `warehouse` is written: beside it, like the analytics database and the export."""
    return warehouse.with_name(REPORTS_FOLDER)


def write_reports(analytics: Path, out_dir: Path) -> list[Path]:
    """One page per tenant of `analytics` and the index, into `out_dir`; returns them, the index first.

    Each file is written beside its name and renamed over it, so a reader never sees half a page. Pages of tenants
    the database no longer holds are removed: every page in the folder is from this publication.
    """
    with _connect(analytics) as con:
        publication = read_publication(con)
    out_dir.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    pages = page_names({report.tenant_id: report.tenant_name for report in publication.tenants})
    written = [_write(out_dir / INDEX_NAME, index_page(publication, pages))]
    for report in publication.tenants:
        written.append(_write(out_dir / pages[report.tenant_id], tenant_page(report, publication, INDEX_NAME)))
    for stale in set(out_dir.glob("*.html")) - set(written):
        stale.unlink()
    return written


def _connect(analytics: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(analytics), read_only=True)
    except (duckdb.CatalogException, duckdb.IOException) as error:
        if lock_holder(str(error)):
            raise  # a run holds it: the command line names the holder
        raise NotAnAnalyticsDatabase(str(error).splitlines()[0]) from error


def report_files(out_dir: Path) -> list[Path]:
    """The pages a report folder holds, the index first (each write leaves only its own pages)."""
    pages = sorted(out_dir.glob("*.html"))
    return sorted(pages, key=lambda page: page.name != INDEX_NAME)


def page_names(tenants: dict[str, str]) -> dict[str, str]:
    """A file name per tenant id, from the tenant's name; a name two tenants would share gets their ids."""
    names = {tenant_id: f"{_UNSAFE.sub('-', name).strip('-.') or 'tenant'}.html" for tenant_id, name in tenants.items()}
    taken = list(names.values())
    return {
        tenant_id: name if taken.count(name) == 1 and name != INDEX_NAME else f"{name[:-5]}-{tenant_id}.html"
        for tenant_id, name in names.items()
    }


def _write(target: Path, html: str) -> Path:
    staged = target.with_name(f".{target.name}.next")
    staged.write_text(html, encoding="utf-8")
    replace_file(staged, target)
    return target
