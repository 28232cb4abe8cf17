"""``pimlens doctor``: checks configuration, credentials and permissions against each tenant, and says what is missing.

It reads one page of every top-level collection, the cheapest request that proves a permission is granted.
Nested collections (read per group, per app, per review) are reported by each run's coverage table instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from azure.core.exceptions import ClientAuthenticationError

from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec, Source
from pipelines.lib.graph.extract import fetch_page
from pipelines.lib.graph.retry import RetryBudget
from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport


@dataclass(frozen=True)
class Finding:
    collection: str
    ok: bool
    detail: str


async def _probe(settings: TenantSettings) -> list[Finding]:
    findings = []
    async with GraphTransport(settings, budget=RetryBudget(per_request=3, per_run=30)) as transport:
        # A nested collection is read once per parent row: probing it needs rows, so the run reports it instead.
        # Log Analytics and Azure Resource Manager are probed by the run too, when they are configured.
        for spec in COLLECTIONS:
            if spec.fan_out is None and spec.source is Source.GRAPH:
                findings.append(await _probe_one(transport, settings, spec))
    return findings


async def _probe_one(transport: GraphTransport, settings: TenantSettings, spec: CollectionSpec) -> Finding:
    try:
        await fetch_page(transport, spec.first_url(settings.graph_url))
    except GraphHTTPError as error:
        if error.status == 403:
            return Finding(spec.table, False, f"missing permission {spec.permission} ({error.code})")
        return Finding(spec.table, False, f"HTTP {error.status} {error.code}: {error.message}")
    return Finding(spec.table, True, f"readable ({spec.permission})")


def check_tenant(settings: TenantSettings) -> list[Finding]:
    """Findings for one tenant; a credential problem is one finding that names what to fix."""
    try:
        return asyncio.run(_probe(settings))
    except ClientAuthenticationError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [Finding("credentials", False, f"could not get a token for {settings.client_id}: {first_line}")]
