"""Which users' mailbox settings a run reads: privileged users only, and only when their last read is a week old."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson

from pipelines.lib.config import TenantSettings
from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.ingest import _parent_keys
from pipelines.lib.warehouse.landing import record_coverage
from pipelines.lib.warehouse.schema import ensure_raw_table

TENANT = TenantSettings(name="t", tenant_id="tid", client_id="c", client_secret="s")
SPEC = COLLECTIONS_BY_TABLE["user_mailbox_settings"]


def _load(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[str, dict]], at: datetime) -> None:
    ensure_raw_table(con, table)
    load_id = f"{at:%Y%m%dT%H%M%S%fZ}-{table}"
    con.executemany(
        f"insert into raw.{table} values ('tid', ?, ?, ?, ?, null)",
        [(load_id, at, row_id, orjson.dumps(record).decode()) for row_id, record in rows],
    )
    con.execute(
        "insert into meta.loads values (?, 'tid', ?, 'snapshot', ?, ?, 0, 0, 0, 0, 0, null, '')",
        [load_id, table, at, at],
    )


def test_only_privileged_users_not_read_in_the_last_week_are_due(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        people = ["eligible", "active", "legacy", "group_member", "pim_group_owner", "fresh", "stale", "nobody"]
        _load(con, "users", [(user, {"id": user}) for user in people], now - timedelta(hours=1))
        record_coverage(con, COLLECTIONS_BY_TABLE["users"], "tid", "ok")
        _load(
            con,
            "role_eligibility_schedule_instances",
            [("e1", {"principalId": "eligible"}), ("e2", {"principalId": "fresh"}), ("e3", {"principalId": "stale"})],
            now,
        )
        _load(con, "role_assignment_schedule_instances", [("a1", {"principalId": "active"})], now)
        _load(con, "role_assignments", [("r1", {"principalId": "legacy"}), ("r2", {"principalId": "active"})], now)
        _load(con, "group_transitive_members", [("group_member", {"id": "group_member"})], now)
        _load(con, "pim_group_assignment_instances", [("o1", {"principalId": "pim_group_owner"})], now)
        # An older snapshot's principal no longer holds anything today.
        _load(con, "role_eligibility_schedule_instances", [("old", {"principalId": "nobody"})], now - timedelta(days=2))
        _load(con, "user_mailbox_settings", [("fresh", {"timeZone": "UTC"})], now - timedelta(days=6))
        _load(con, "user_mailbox_settings", [("stale", {"timeZone": "UTC"})], now - timedelta(days=8))
        due = _parent_keys(con, TENANT, SPEC)
    assert due is not None
    assert sorted(keys["id"] for keys in due) == [
        "active",
        "eligible",
        "group_member",
        "legacy",
        "pim_group_owner",
        "stale",
    ]


def test_on_a_first_run_every_privileged_user_is_due_even_before_the_group_surfaces_were_ever_read(
    tmp_path: Path,
) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        now = datetime.now(UTC)
        _load(con, "users", [("eligible", {"id": "eligible"}), ("other", {"id": "other"})], now)
        record_coverage(con, COLLECTIONS_BY_TABLE["users"], "tid", "ok")
        _load(con, "role_eligibility_schedule_instances", [("e1", {"principalId": "eligible"})], now)
        due = _parent_keys(con, TENANT, SPEC)
    assert due == [{"id": "eligible"}]
