"""Reads collections from a tenant and lands them: the whole of the ingest assets, without Dagster.

One event loop and one authenticated transport per source serve every collection of a tenant in a run, so a
token is fetched once, not once per collection. The DuckDB file is opened only around the short reads and the
landing transaction, never across network waits, so the single-writer lock is held as briefly as possible.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from azure.core.exceptions import HttpResponseError

from pipelines.lib import progress
from pipelines.lib.arm.transport import ArmTransport
from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS, COLLECTIONS_BY_TABLE, CollectionSpec, LoadMode, Source
from pipelines.lib.graph.extract import ExtractResult, extract_collection, extract_fan_out
from pipelines.lib.graph.retry import RetryBudget
from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport, RetryingTransport
from pipelines.lib.loganalytics import LogTable, extract_log_table, make_logs_client
from pipelines.lib.processes import remove_abandoned_scratch, scratch_folder
from pipelines.lib.warehouse.landing import (
    LoadSummary,
    connect_for_landing,
    land_extracted,
    latest_coverage,
    latest_snapshot_query,
    read_watermark,
    record_coverage,
)
from pipelines.lib.warehouse.schema import ensure_raw_table

# Graph's answers when the app lacks a permission or the tenant lacks a licence: not retried, not fatal.
NOT_GRANTED_STATUS = frozenset({403})


class ParentNotLoaded(RuntimeError):
    """A nested collection was asked for before the collection it hangs from was ever landed."""


@dataclass(frozen=True)
class IngestReport:
    spec: CollectionSpec
    # ok, forbidden, unlicensed, blocked (its parent could not be read) or not_configured (nothing to read from)
    status: str
    extracted: ExtractResult
    loaded: LoadSummary | None
    retries: int
    window_start: datetime | None
    error: str | None = None


def new_load_id(spec: CollectionSpec, started_at: datetime) -> str:
    # Sorts by time, so "the latest load" is also the greatest id.
    return f"{started_at:%Y%m%dT%H%M%S%fZ}-{spec.table}-{uuid.uuid4().hex[:8]}"


def ingest_collection(
    settings: TenantSettings, spec: CollectionSpec, warehouse: Path, *, budget: RetryBudget | None = None
) -> IngestReport:
    """One collection of one tenant: what one ingest asset does."""
    (report,) = asyncio.run(_ingest_tenant(settings, (spec,), warehouse, budget or RetryBudget()))
    return report


def ingest_all(
    tenants: tuple[TenantSettings, ...] | list[TenantSettings],
    warehouse: Path,
    specs: tuple[CollectionSpec, ...] = COLLECTIONS,
) -> list[IngestReport]:
    """Every collection of every tenant, parents before children, with one retry budget per tenant."""
    reports: list[IngestReport] = []
    for tenant in tenants:
        reports += asyncio.run(_ingest_tenant(tenant, specs, warehouse, RetryBudget()))
    return reports


class _TenantSession:
    """The transports of one tenant, opened when first needed and shared by its collections."""

    def __init__(self, settings: TenantSettings, budget: RetryBudget, stack: AsyncExitStack) -> None:
        self.settings = settings
        self.budget = budget
        self._stack = stack
        self._transports: dict[Source, RetryingTransport] = {}

    async def transport(self, source: Source) -> RetryingTransport:
        if source not in self._transports:
            kind = ArmTransport if source is Source.ARM else GraphTransport
            self._transports[source] = await self._stack.enter_async_context(kind(self.settings, budget=self.budget))
        return self._transports[source]


async def _ingest_tenant(
    settings: TenantSettings, specs: tuple[CollectionSpec, ...], warehouse: Path, budget: RetryBudget
) -> list[IngestReport]:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # Extracted pages wait in a private folder beside the warehouse until landed; a killed run's folder is removed
    # here, at the next start.
    remove_abandoned_scratch(scratch_root(warehouse))
    async with AsyncExitStack() as stack:
        session = _TenantSession(settings, budget, stack)
        con = stack.enter_context(connect_for_landing(warehouse))
        reports = []
        for spec in specs:
            with progress.tracking("collection", spec.table, tenant=settings.name) as tracker:
                report = await _ingest(session, spec, warehouse, con)
                tracker.finish(report.status if report.status != "ok" else "done", new=_rows_new(report))
            reports.append(report)
        return reports


def _rows_new(report: IngestReport) -> int:
    return report.loaded.rows_inserted if report.loaded else 0


def scratch_root(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".scratch")


async def _ingest(
    session: _TenantSession, spec: CollectionSpec, warehouse: Path, con: duckdb.DuckDBPyConnection
) -> IngestReport:
    """Reads one collection into the scratch folder beside `warehouse`, then lands it on `con`."""
    settings, budget = session.settings, session.budget
    started_at = datetime.now(UTC)
    unconfigured = _missing_configuration(settings, spec)
    if unconfigured:
        return _not_covered(con, settings, spec, "not_configured", budget, reason=unconfigured)
    window_start = _window_start(con, settings, spec)
    parents = _parent_keys(con, settings, spec)
    if parents is None:
        return _not_covered(con, settings, spec, "blocked", budget, reason="its parent collection is unreadable")

    with scratch_folder(scratch_root(warehouse)) as scratch:
        ndjson = scratch / f"{spec.table}.ndjson"
        try:
            if spec.source is Source.LOG_ANALYTICS:
                extracted = _extract_log_analytics(settings, spec, ndjson, window_start, started_at, budget)
            else:
                extracted = await _extract(session, spec, ndjson, window_start, parents)
        except GraphHTTPError as error:
            if error.status not in NOT_GRANTED_STATUS:
                raise
            status = "unlicensed" if "licen" in f"{error.code} {error.message}".lower() else "forbidden"
            return _not_covered(con, settings, spec, status, budget, error.status, error.code, str(error))
        except HttpResponseError as error:
            if error.status_code not in NOT_GRANTED_STATUS:
                raise
            code = error.error.code if error.error else None
            return _not_covered(con, settings, spec, "forbidden", budget, error.status_code, code, str(error))
        loaded = land_extracted(
            con,
            spec,
            tenant_id=settings.tenant_id,
            load_id=new_load_id(spec, started_at),
            started_at=started_at,
            ndjson_path=ndjson,
            extracted=extracted,
            window_start=window_start,
        )
    return IngestReport(spec, "ok", extracted, loaded, budget.used, window_start)


def _window_start(con: duckdb.DuckDBPyConnection, settings: TenantSettings, spec: CollectionSpec) -> datetime | None:
    if spec.mode is not LoadMode.INCREMENTAL:
        return None
    watermark = read_watermark(con, settings.tenant_id, spec.table)
    return watermark - spec.lookback if watermark else None


def _missing_configuration(settings: TenantSettings, spec: CollectionSpec) -> str | None:
    if spec.source is Source.LOG_ANALYTICS and not settings.log_analytics_workspace_id:
        return "no log_analytics_workspace_id configured"
    # A fan-out over an Azure collection (the members of groups holding Azure roles) has nothing to read without it.
    reads_arm = spec.source is Source.ARM or (
        spec.fan_out is not None and COLLECTIONS_BY_TABLE[spec.fan_out.parent_table].source is Source.ARM
    )
    if reads_arm and not settings.azure_subscriptions:
        return "no azure_subscriptions configured"
    return None


def _parent_keys(
    con: duckdb.DuckDBPyConnection, settings: TenantSettings, spec: CollectionSpec
) -> list[dict[str, str]] | None:
    """The placeholders of every child URL, or None when the parent could not be read in its latest run."""
    if spec.source is Source.ARM:
        return [{"subscription": subscription} for subscription in settings.azure_subscriptions]
    if spec.fan_out is None:
        return [{}]
    parent = spec.fan_out.parent_table
    for table in (spec.table, *spec.fan_out.also_reads):
        ensure_raw_table(con, table)
    status = latest_coverage(con, settings.tenant_id, parent)
    if status is None:
        raise ParentNotLoaded(f"raw.{parent} was never loaded for tenant {settings.name}: materialize it first.")
    if status != "ok":
        return None
    query = f"with parent as ({latest_snapshot_query(parent)}) {spec.fan_out.parent_query}"
    cursor = con.execute(query, {"tenant": settings.tenant_id})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _not_covered(
    con: duckdb.DuckDBPyConnection,
    settings: TenantSettings,
    spec: CollectionSpec,
    status: str,
    budget: RetryBudget,
    http_status: int | None = None,
    error_code: str | None = None,
    reason: str | None = None,
) -> IngestReport:
    # The table exists, empty, so dbt and the gates downstream run and report "unknown".
    ensure_raw_table(con, spec.table)
    record_coverage(con, spec, settings.tenant_id, status, http_status=http_status, error_code=error_code)
    return IngestReport(spec, status, ExtractResult(), None, budget.used, None, reason)


def _extract_log_analytics(
    settings: TenantSettings,
    spec: CollectionSpec,
    ndjson: Path,
    window_start: datetime | None,
    now: datetime,
    budget: RetryBudget,
) -> ExtractResult:
    start = window_start or (now - timedelta(days=settings.history_days))
    with make_logs_client(settings) as client:
        return extract_log_table(
            client,
            settings.log_analytics_workspace_id or "",
            LogTable(spec.path, spec.kql_where),
            start,
            now,
            ndjson,
            budget=budget,
            time_property=_keyed_by(spec),
        )


async def _extract(
    session: _TenantSession,
    spec: CollectionSpec,
    ndjson: Path,
    window_start: datetime | None,
    parents: list[dict[str, str]],
) -> ExtractResult:
    transport = await session.transport(spec.source)
    base_url = session.settings.management_url if spec.source is Source.ARM else session.settings.graph_url
    requests_before, throttled_before = transport.requests_sent, transport.throttled_responses
    if spec.fan_out is None and spec.source is not Source.ARM:
        first_urls = spec.first_urls(base_url, since=window_start)
        result = await extract_collection(transport, first_urls, ndjson, time_property=_keyed_by(spec))
    else:
        jobs = [("/".join(keys.values()), spec.first_url(base_url, keys=keys)) for keys in parents]
        result = await extract_fan_out(
            transport,
            jobs,
            ndjson,
            time_property=_keyed_by(spec),
            object_per_parent=spec.object_per_parent,
            errors_kept_as_records=spec.errors_kept_as_records,
        )
    result.requests = transport.requests_sent - requests_before
    result.throttled = transport.throttled_responses - throttled_before
    return result


def _keyed_by(spec: CollectionSpec) -> str | None:
    """The time property of an event stream, whose landing reads a keys file beside the records; else None."""
    return spec.time_property if spec.mode is LoadMode.INCREMENTAL else None
