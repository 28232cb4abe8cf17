"""Reads one collection from a tenant and lands it: the whole of an ingest asset, without Dagster.

The DuckDB file is opened only around the short reads and the landing transaction, never across network
waits, so the single-writer lock is held for as little time as possible.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec, LoadMode
from pipelines.lib.graph.extract import ExtractResult, extract_collection
from pipelines.lib.graph.retry import RetryBudget
from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport
from pipelines.lib.warehouse.landing import LoadSummary, land_collection, read_watermark, record_coverage
from pipelines.lib.warehouse.schema import ensure_raw_table

# Graph's answers when the app lacks a permission or the tenant lacks a licence: not retried, not fatal.
NOT_GRANTED_STATUS = frozenset({403})


@dataclass(frozen=True)
class IngestReport:
    spec: CollectionSpec
    status: str  # ok, forbidden or unlicensed
    extracted: ExtractResult
    loaded: LoadSummary | None
    retries: int
    window_start: datetime | None
    error: str | None = None


def new_load_id(spec: CollectionSpec, started_at: datetime) -> str:
    # Sorts by time, so "the latest load" is also the greatest id.
    return f"{started_at:%Y%m%dT%H%M%S%fZ}-{spec.table}-{uuid.uuid4().hex[:8]}"


def ingest_collection(
    settings: TenantSettings,
    spec: CollectionSpec,
    warehouse: Path,
    *,
    budget: RetryBudget | None = None,
) -> IngestReport:
    started_at = datetime.now(UTC)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    window_start = None
    if spec.mode is LoadMode.INCREMENTAL:
        with duckdb.connect(str(warehouse)) as con:
            watermark = read_watermark(con, settings.tenant_id, spec.table)
        window_start = watermark - spec.lookback if watermark else None

    with tempfile.TemporaryDirectory(prefix="pimlens-extract-") as scratch:
        ndjson = Path(scratch) / f"{spec.table}.ndjson"
        budget = budget or RetryBudget()
        try:
            extracted = asyncio.run(_extract(settings, spec, ndjson, window_start, budget))
        except GraphHTTPError as error:
            if error.status not in NOT_GRANTED_STATUS:
                raise
            status = "unlicensed" if "licen" in f"{error.code} {error.message}".lower() else "forbidden"
            with duckdb.connect(str(warehouse)) as con:
                # The table exists, empty, so dbt and the gates downstream run and report "unknown".
                ensure_raw_table(con, spec.table)
                record_coverage(con, spec, settings.tenant_id, status, http_status=error.status, error_code=error.code)
            return IngestReport(spec, status, ExtractResult(), None, budget.used, window_start, str(error))
        with duckdb.connect(str(warehouse)) as con:
            loaded = land_collection(
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


async def _extract(
    settings: TenantSettings,
    spec: CollectionSpec,
    ndjson: Path,
    window_start: datetime | None,
    budget: RetryBudget,
) -> ExtractResult:
    async with GraphTransport(settings, budget=budget) as transport:
        result = await extract_collection(transport, spec.first_url(settings.graph_url, since=window_start), ndjson)
        result.requests = transport.requests_sent
        result.throttled = transport.throttled_responses
        return result


def ingest_all(
    tenants: tuple[TenantSettings, ...] | list[TenantSettings],
    warehouse: Path,
    specs: tuple[CollectionSpec, ...] | None = None,
) -> list[IngestReport]:
    """Every collection of every tenant, one after the other: what the ingest assets do, without Dagster."""
    return [ingest_collection(tenant, spec, warehouse) for tenant in tenants for spec in (specs or COLLECTIONS)]
