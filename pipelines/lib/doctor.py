"""``pimlens doctor``: checks credentials, reachability and permissions against each tenant, and says what is missing.

It makes the requests a run makes, one page each: a token, the first page of every Graph collection, the first
parent's page of every nested collection (a group's members, a review's decisions, a user's mailbox settings),
one hour of each Log Analytics table and every Azure Resource Manager collection of each subscription. A surface
only a ReadWrite permission opens, ``MailboxSettings.Read``, ``Policy.Read.All`` and the Intune and Exchange RBAC
permissions are optional: not granted, they are reported as not covered, as the run records them, and the tenant is
still healthy. So is a surface no application permission opens (Exchange's role definitions), refused to every
app-only sign-in. A failure to reach a service is one finding that names what failed and its likely cause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb
import orjson
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from pipelines.lib.arm.transport import ArmTransport
from pipelines.lib.config import TenantSettings
from pipelines.lib.credentials import async_credential
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec, Source
from pipelines.lib.graph.extract import fetch_page
from pipelines.lib.graph.retry import RetryBudget, RetryBudgetExhausted
from pipelines.lib.graph.transport import GraphHTTPError, GraphTransport
from pipelines.lib.loganalytics import LogTable, make_logs_client, probe_table
from pipelines.lib.network_errors import network_cause

# ok: readable; optional: not granted, and not needed (the surface is recorded as not covered); not_configured:
# nothing to read it from in the configuration; skipped: nothing to probe it with (its parent has no rows or
# failed); missing: a permission the README's set grants is not granted; error: anything else that stops a run.
FAILING = frozenset({"missing", "error"})
# The README lists these as optional: without them a surface reads unknown (mailbox time zones, Conditional Access,
# the Intune and Exchange role inventories).
OPTIONAL_PERMISSIONS = frozenset(
    {"MailboxSettings.Read", "Policy.Read.All", "DeviceManagementRBAC.Read.All", "RoleManagement.Read.Exchange"}
)


@dataclass(frozen=True)
class Finding:
    collection: str  # a raw table, or "credentials"
    status: str
    detail: str
    permission: str | None = None

    @property
    def ok(self) -> bool:
        return self.status not in FAILING


def is_optional(spec: CollectionSpec) -> bool:
    """Whether the least-privilege set leaves this surface out: it needs a ReadWrite permission, is optional, or no
    application permission opens it."""
    return ".ReadWrite." in spec.permission or spec.permission in OPTIONAL_PERMISSIONS or spec.delegated_only


def check_tenant(settings: TenantSettings) -> list[Finding]:
    """Findings for one tenant; a credential or network problem is one finding that names what to fix."""
    token = asyncio.run(_token(settings))
    if not token.ok:
        return [token]
    return [token, *asyncio.run(_probe_graph_and_arm(settings)), *_probe_log_analytics(settings)]


def findings_as_json(settings: TenantSettings, findings: list[Finding]) -> dict[str, Any]:
    return {
        "tenant": settings.name,
        "tenant_id": settings.tenant_id,
        "healthy": all(finding.ok for finding in findings),
        "findings": [asdict(finding) for finding in findings],
    }


async def _token(settings: TenantSettings) -> Finding:
    credential = async_credential(settings)
    host = urlsplit(settings.authority_url).hostname
    # azure-identity logs a failed token request with its whole cause; the finding below says it in one line.
    quiet = logging.getLogger("azure.identity")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        async with credential:
            await credential.get_token(settings.cloud.scope(settings.cloud.graph_url))
    except Exception as error:
        if (cause := network_cause(error)) is not None:
            return Finding("credentials", "error", _unreachable("the token endpoint", cause))
        if isinstance(error, ClientAuthenticationError):
            return Finding(
                "credentials", "error", f"could not get a token for {settings.identity}: {_first_line(error)}"
            )
        raise
    finally:
        quiet.setLevel(level)
    return Finding("credentials", "ok", f"a Graph token for {settings.identity} (authority {host})")


async def _probe_graph_and_arm(settings: TenantSettings) -> list[Finding]:
    budget = RetryBudget(per_request=2, per_run=20)
    findings: list[Finding] = []
    async with GraphTransport(settings, budget=budget) as graph:
        probe = _GraphProbe(settings, graph)
        for spec in COLLECTIONS:
            if spec.source is Source.GRAPH:
                finding = await probe.check(spec)
                findings.append(finding)
                if finding.collection == "network":
                    return findings
    arm_specs = [spec for spec in COLLECTIONS if spec.source is Source.ARM]
    if not settings.azure_subscriptions:
        return findings + [_not_configured(spec, "no azure_subscriptions configured") for spec in arm_specs]
    async with ArmTransport(settings, budget=budget) as arm:
        for spec in arm_specs:
            findings.append(await _probe_arm(settings, arm, spec))
    return findings


class _GraphProbe:
    """Probes Graph collections in the order a run reads them, keeping each first page to find a parent for the
    nested collections that hang from it."""

    def __init__(self, settings: TenantSettings, transport: GraphTransport) -> None:
        self.settings = settings
        self.transport = transport
        self.pages: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {}

    async def check(self, spec: CollectionSpec) -> Finding:
        if spec.fan_out is None:
            url, parent_key = spec.first_urls(self.settings.graph_url)[0], None
        else:
            keys = self._first_parent(spec)
            if isinstance(keys, Finding):
                return keys
            url, parent_key = spec.first_url(self.settings.graph_url, keys=keys), "/".join(keys.values())
        return await _checked(
            spec, self.settings.graph_url, lambda: self._read(spec, url, parent_key), f"readable ({spec.permission})"
        )

    async def _read(self, spec: CollectionSpec, url: str, parent_key: str | None) -> None:
        if spec.object_per_parent:
            try:
                await self.transport.get_once(url)
            except GraphHTTPError as error:
                if error.code not in spec.errors_kept_as_records:
                    raise
            return
        page = await fetch_page(self.transport, url)
        self.pages[spec.table] = [
            (item["id"], parent_key, item) for item in page["value"] if isinstance(item, dict) and "id" in item
        ]

    def _first_parent(self, spec: CollectionSpec) -> dict[str, str] | Finding:
        """The placeholders of the first parent the run would read this collection for, from the parent's page."""
        assert spec.fan_out is not None
        parent = spec.fan_out.parent_table
        rows = self.pages.get(parent)
        if rows is None:
            return Finding(spec.table, "skipped", f"not probed: its parent {parent} could not be read", spec.permission)
        # A query that also reads other tables only narrows which parents are due: any parent proves the permission.
        query = "select id from parent" if spec.fan_out.also_reads else spec.fan_out.parent_query
        with duckdb.connect() as con:
            con.execute("create table parent (id varchar, parent_key varchar, record json)")
            if rows:
                con.executemany(
                    "insert into parent values (?, ?, ?)",
                    [(key, parent_key, orjson.dumps(record).decode()) for key, parent_key, record in rows],
                )
            cursor = con.execute(query + " limit 1")
            names = [column[0] for column in cursor.description]
            first = cursor.fetchone()
        if first is None:
            return Finding(
                spec.table, "skipped", f"not probed: no {parent} on the first page to read it for", spec.permission
            )
        return {name: str(value) for name, value in zip(names, first, strict=True)}


async def _probe_arm(settings: TenantSettings, arm: ArmTransport, spec: CollectionSpec) -> Finding:
    async def read_each_subscription() -> None:
        for subscription in settings.azure_subscriptions:
            await fetch_page(arm, spec.first_url(settings.management_url, keys={"subscription": subscription}))

    readable = f"readable in {len(settings.azure_subscriptions)} subscriptions"
    return await _checked(spec, settings.management_url, read_each_subscription, readable)


async def _checked(spec: CollectionSpec, base_url: str, read: Callable[[], Awaitable[None]], readable: str) -> Finding:
    """The finding of one probe: ``read()`` succeeding, a refusal, or a failure to reach ``base_url``."""
    try:
        await read()
    except GraphHTTPError as error:
        if error.status == 403 and is_optional(spec):
            return Finding(spec.table, "optional", _optional_detail(spec), spec.permission)
        if error.status == 403:
            return Finding(
                spec.table, "missing", f"missing permission {spec.permission} ({error.code})", spec.permission
            )
        return Finding(spec.table, "error", f"HTTP {error.status} {error.code}: {error.message}", spec.permission)
    except Exception as error:
        if (cause := network_cause(error)) is not None:
            return Finding("network", "error", _unreachable(urlsplit(base_url).hostname or base_url, cause))
        if isinstance(error, RetryBudgetExhausted):
            return Finding(spec.table, "error", str(error), spec.permission)
        raise
    return Finding(spec.table, "ok", readable, spec.permission)


def _probe_log_analytics(settings: TenantSettings) -> list[Finding]:
    specs = [spec for spec in COLLECTIONS if spec.source is Source.LOG_ANALYTICS]
    workspace = settings.log_analytics_workspace_id
    if not workspace:
        return [_not_configured(spec, "no log_analytics_workspace_id configured") for spec in specs]
    findings = []
    now = datetime.now(UTC)
    with make_logs_client(settings) as client:
        for spec in specs:
            try:
                rows = probe_table(client, workspace, LogTable(spec.path, spec.kql_where), now)
            except HttpResponseError as error:
                code = error.error.code if error.error else error.reason
                status = "missing" if error.status_code == 403 else "error"
                what = f"missing {spec.permission}" if error.status_code == 403 else f"HTTP {error.status_code}"
                findings.append(Finding(spec.table, status, f"{what} ({code}): workspace {workspace}", spec.permission))
                continue
            except RetryBudgetExhausted as error:
                host = urlsplit(settings.log_analytics_url).hostname or settings.log_analytics_url
                cause = network_cause(error)
                findings.append(
                    Finding("network", "error", _unreachable(host, cause))
                    if cause
                    else Finding(spec.table, "error", str(error))
                )
                break
            findings.append(Finding(spec.table, "ok", f"readable ({rows} rows in the last hour)", spec.permission))
    return findings


def _not_configured(spec: CollectionSpec, why: str) -> Finding:
    return Finding(spec.table, "not_configured", f"not read: {why} (optional)", spec.permission)


def _optional_detail(spec: CollectionSpec) -> str:
    if spec.delegated_only:
        return (
            f"not covered: Graph grants it to delegated {spec.permission} only, never to an application as pimlens "
            "signs in; nothing depends on it"
        )
    if ".ReadWrite." in spec.permission:
        return (
            f"not covered: listing it needs {spec.permission}, outside the read-only set pimlens asks for; "
            "the audit log stands in for it"
        )
    return f"not covered: {spec.permission} is not granted (optional)"


def _unreachable(where: str, cause: tuple[str, str]) -> str:
    what, likely = cause
    return f"cannot reach {where}: {what}; likely cause: {likely}"


def _first_line(error: BaseException) -> str:
    """The error in one line; a credential chain's, with the first sentence of what each credential it tried said."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    lines = text.splitlines()
    tried = [line.strip().split(". ")[0] for line in lines if line.startswith("\t")]
    return f"{lines[0]} {'; '.join(tried)}" if tried else lines[0]
