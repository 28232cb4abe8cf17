"""Whose members a run reads for Intune's and Exchange's roles: the groups either system names, whatever path form
Exchange writes the principal in; users, apps and a system not read name none."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
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
