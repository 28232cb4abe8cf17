"""``pimlens tenant record``: a tenant read through the pipeline's own extraction, written as a tenant directory.

The recording is what the emulator serves (docs/tenant-format.md), so whoever receives it can run pimlens on it
and see what its user saw, without access to the tenant. Every collection is extracted and landed by the same
code as a refresh, into a private scratch warehouse; then each collection's latest snapshot (or every event of
an event stream) is written at the path the emulator reads it from, its personal values pseudonymised with the
configuration's key (privacy.py): ids, times and structure are kept.
"""

from __future__ import annotations

import json
import shutil
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.lib.config import TenantSettings
from pipelines.lib.files import FOLDER_MODE, restrict
from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec, LoadMode, Source
from pipelines.lib.ingest import IngestReport, ingest_all
from pipelines.lib.privacy import Pseudonymiser
from pipelines.lib.processes import scratch_folder
from pipelines.lib.warehouse.catalog import has_table
from pipelines.lib.warehouse.landing import latest_snapshot_query

# Collections whose objects are principals: their display names are personal.
PRINCIPAL_TABLES = frozenset({"users", "groups", "service_principals", "applications"})
POLICIES_PATH = "v1.0/policies/roleManagementPolicies"


@dataclass(frozen=True)
class Recording:
    directory: Path
    files: int
    objects: int
    not_covered: dict[str, str]  # collection -> status, for collections the app may not read


def record_tenant(
    settings: TenantSettings, out_dir: Path, pseudonymiser: Pseudonymiser, *, design: Path | None = None
) -> Recording:
    """Reads `settings`' tenant and writes it to `out_dir` (which must not exist yet), pseudonymised."""
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists: record into a new folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with scratch_folder(out_dir.parent / f".{out_dir.name}.scratch") as work:
        warehouse = work / "recording.duckdb"
        reports = ingest_all([settings], warehouse)
        staged = work / "tenant"
        files = _collections(warehouse, settings.tenant_id, pseudonymiser)
        for relative, objects in files.items():
            path = staged / f"{relative}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(list(objects.values()), indent=1, ensure_ascii=False), encoding="utf-8")
        tenant = {"tenantId": settings.tenant_id, "asOf": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        (staged / "tenant.json").write_text(json.dumps(tenant, indent=2), encoding="utf-8")
        if design is not None:
            (staged / "design.yaml").write_text(pseudonymised_design(design, pseudonymiser), encoding="utf-8")
        restrict(staged)
        staged.rename(out_dir)
        out_dir.chmod(FOLDER_MODE)
    shutil.rmtree(out_dir.parent / f".{out_dir.name}.scratch", ignore_errors=True)
    return Recording(
        out_dir,
        files=len(files),
        objects=sum(len(objects) for objects in files.values()),
        not_covered=_not_covered(reports),
    )


def pseudonymised_design(design: Path, pseudonymiser: Pseudonymiser) -> str:
    """The programme design with its break-glass accounts (UPNs) pseudonymised like the recording's users."""
    document = yaml.safe_load(design.read_text(encoding="utf-8")) or {}
    if document.get("break_glass_accounts"):
        document["break_glass_accounts"] = [pseudonymiser(upn) for upn in document["break_glass_accounts"]]
    return yaml.safe_dump(document, sort_keys=False)


def _not_covered(reports: list[IngestReport]) -> dict[str, str]:
    return {report.spec.table: report.status for report in reports if report.status != "ok"}


def _collections(warehouse: Path, tenant_id: str, pseudonymiser: Pseudonymiser) -> dict[str, dict[str, Any]]:
    """Every object to write, by file (a path without .json) and then by id (a stream read twice keeps one)."""
    files: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in COLLECTIONS:
            for object_id, parent_key, record in _rows(con, spec, tenant_id):
                item = json.loads(record)
                for relative, placed in _placements(spec, parent_key, item):
                    key = placed.get("id") or placed.get("Id") or object_id
                    files.setdefault(relative, {})[key] = pseudonymiser.record(
                        placed, principal=spec.table in PRINCIPAL_TABLES
                    )
    return files


def _rows(con: duckdb.DuckDBPyConnection, spec: CollectionSpec, tenant_id: str) -> list[tuple[str, str, str]]:
    if not has_table(con, "raw", spec.table):
        return []
    if spec.is_cache:
        # A cache's load holds only the ids it read again: its content is each id's newest row across loads.
        query = f"""select id, parent_key, record from raw.{spec.table} where tenant_id = $tenant
            qualify row_number() over (partition by id order by load_id desc) = 1 order by id"""
    elif spec.mode is LoadMode.SNAPSHOT:
        query = latest_snapshot_query(spec.table)
    else:
        query = f"select id, parent_key, record from raw.{spec.table} where tenant_id = $tenant order by load_id"
    return [(row[0], row[1], str(row[2])) for row in con.execute(query, {"tenant": tenant_id}).fetchall()]


def _placements(spec: CollectionSpec, parent_key: str | None, item: dict[str, Any]) -> list[tuple[str, Any]]:
    """Where the emulator reads `item` from: its collection's file, and for a policy assignment with its policy
    expanded, the policy's and its rules' own files (the emulator answers ``$expand`` by joining them)."""
    if spec.source is Source.LOG_ANALYTICS:
        return [(f"loganalytics/{spec.path}", item)]
    names = [name for _, name, _, _ in string.Formatter().parse(spec.path) if name]
    keys = dict(zip(names, (parent_key or "").split("/"), strict=False)) if names else {}
    path = spec.path.format_map(keys)
    if spec.source is Source.ARM:
        return [(f"arm/{path}", item)]
    if spec.object_per_parent:
        # One object per parent (users/{id}/mailboxSettings): the emulator keeps them in one file named after the
        # path's last segment, keyed by the parent's id. An error Graph gave about the parent (no mailbox) is the
        # emulator's answer for a parent missing from that file, so it is not written.
        if isinstance(item.get("error"), dict):
            return []
        body = {key: value for key, value in item.items() if key != "@odata.context"}
        return [(f"{spec.api_version}/{spec.path.rsplit('/', 1)[-1]}", {"id": parent_key, **body})]
    placements: list[tuple[str, Any]] = []
    policy = item.get("policy")
    if isinstance(policy, dict) and "id" in policy:
        item = {key: value for key, value in item.items() if not key.startswith("policy@") and key != "policy"}
        rules = policy.get("rules") or []
        policy = {key: value for key, value in policy.items() if key != "rules" and not key.startswith("rules@")}
        placements.append((POLICIES_PATH, policy))
        placements += [(f"{POLICIES_PATH}/{policy['id']}/rules", rule) for rule in rules]
    return [(f"{spec.api_version}/{path}", item), *placements]
