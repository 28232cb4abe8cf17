"""Whose members a run reads for Intune's and Exchange's roles: the groups either system names, whatever path form
Exchange writes the principal in; users, apps and a system not read name none. And what the three metrics over them
need read, so that coverage makes them unknown rather than low.

Microsoft documents one path form of an Exchange principalId, `/ServicePrincipals/{id}` (Get unifiedRoleAssignment,
beta); `/Groups/{id}` below is an assumption made by analogy, not a documented form: the run takes the last segment
of any path, so a group written either way is expanded."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import paths
from pipelines.lib.graph.collections import COLLECTIONS, COLLECTIONS_BY_TABLE
from pipelines.lib.ingest import _parent_keys
from pipelines.lib.warehouse.landing import record_coverage

from .test_mailbox_settings_due import TENANT, _load

SPEC = COLLECTIONS_BY_TABLE["m365_group_transitive_members"]


def test_the_groups_either_system_names_are_due(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        groups = ["helpdesk", "mail-admins", "unnamed"]
        _load(con, "groups", [(group, {"id": group}) for group in groups], now)
        record_coverage(con, COLLECTIONS_BY_TABLE["groups"], "tid", "ok")
        _load(
            con,
            "intune_role_assignments",
            [("a1", {"principalIds": ["helpdesk", "user1"]}), ("a2", {"principalIds": ["user2"]})],
            now,
        )
        _load(
            con,
            "exchange_role_assignments",
            [("x1", {"principalId": "/Groups/mail-admins"}), ("x2", {"principalId": "/ServicePrincipals/sp1"})],
            now,
        )
        due = _parent_keys(con, TENANT, SPEC)
    assert due is not None
    assert sorted(keys["id"] for keys in due) == ["helpdesk", "mail-admins"]


def test_a_system_never_read_names_no_group(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        now = datetime.now(UTC)
        _load(con, "groups", [("helpdesk", {"id": "helpdesk"})], now)
        record_coverage(con, COLLECTIONS_BY_TABLE["groups"], "tid", "ok")
        _load(con, "intune_role_assignments", [("a1", {"principalIds": ["helpdesk"]})], now)
        due = _parent_keys(con, TENANT, SPEC)
    assert due == [{"id": "helpdesk"}]


def metric_sources() -> dict[str, set[str]]:
    sources: dict[str, set[str]] = {}
    with (paths.DBT_PROJECT_DIR / "seeds" / "metric_sources.csv").open(encoding="utf-8") as seed:
        for row in csv.DictReader(seed):
            sources.setdefault(row["metric_name"], set()).add(row["collection"])
    return sources


def test_the_m365_metrics_need_every_collection_their_principals_come_from() -> None:
    """A group's members not read, or the users or apps that tell a principal's type: each makes the count unknown
    (fct_m365_role_assignments counts users and service principals, groups expanded), never silently lower."""
    sources = metric_sources()
    read_by_every_count = {"m365_group_transitive_members", "groups", "users", "service_principals"}
    assert sources["intune_role_principals"] >= {"intune_role_assignments", *read_by_every_count}
    assert sources["exchange_role_principals"] >= {"exchange_role_assignments", *read_by_every_count}
    assert sources["privileged_principals_with_m365_roles"] >= {
        "intune_role_assignments",
        "exchange_role_assignments",
        *read_by_every_count,
    }


def test_no_metric_needs_a_collection_no_application_permission_opens() -> None:
    """Exchange's role definitions are refused to every app-only sign-in: a metric needing them would never be
    known, so none does (the role names stay unknown, the assignments are counted by role id)."""
    delegated_only = {spec.table for spec in COLLECTIONS if spec.delegated_only}
    assert delegated_only == {"exchange_role_definitions"}
    assert {name for name, needed in metric_sources().items() if needed & delegated_only} == set()
