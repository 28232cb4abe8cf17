"""When each tenant's collections were last read: a tenant whose ingest stopped running shows up within 36 hours.

A collection counts as read when a run reached it and recorded what it found in ``meta.coverage``, whether it
landed rows or was not covered (a missing permission is reported by the coverage, not again as staleness). Daily
ingests read every collection every 24 hours; 36 allows one late or failed run before a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

STALE_AFTER = timedelta(hours=36)


@dataclass(frozen=True)
class LastRead:
    tenant: str  # its name in the configuration
    collection: str
    read_at: datetime | None  # None: never read

    def age_hours(self, now: datetime) -> float | None:
        return None if self.read_at is None else round((now - self.read_at).total_seconds() / 3600, 1)

    def is_stale(self, now: datetime, limit: timedelta = STALE_AFTER) -> bool:
        return self.read_at is None or now - self.read_at > limit


def last_reads(
    con: duckdb.DuckDBPyConnection, tenants: Mapping[str, str], collections: Iterable[str]
) -> dict[str, list[LastRead]]:
    """For each collection, when each configured tenant (name -> tenant id) last had it read."""
    read_at = {
        (tenant_id, collection): at
        for tenant_id, collection, at in con.execute(
            "select tenant_id, collection, max(checked_at) from meta.coverage group by all"
        ).fetchall()
    }
    return {
        collection: [
            LastRead(name, collection, read_at.get((tenant_id, collection))) for name, tenant_id in tenants.items()
        ]
        for collection in collections
    }
