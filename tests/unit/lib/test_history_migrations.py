"""A warehouse whose alert log predates the lifecycle gets its new columns from what it kept, once."""

from pathlib import Path

import duckdb

from pipelines.lib.warehouse.history_migrations import migrate_kept_histories

OLD_ALERTS = """create table marts.fct_alerts (alert_id varchar, tenant_id varchar, alert_rule varchar,
    severity varchar, principal_id varchar, role_definition_id varchar, subject_id varchar, evidence varchar,
    event_at timestamptz, first_seen_at timestamptz)"""


def test_the_old_alert_log_gains_the_lifecycle_and_keeps_every_row(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(OLD_ALERTS)
        con.execute(
            """insert into marts.fct_alerts values
            ('s1', 't1', 'assignment_outside_pim', 'high', 'p', 'r', 'a1', 'x', null, '2026-03-01 00:00:00+00'),
            ('e1', 't1', 'after_hours_activation', 'medium', 'p', 'r', 'q1', 'x', '2026-02-01 21:00:00+00',
             '2026-02-01 21:00:00+00'),
            ('s2', 't2', 'stale_eligibility', 'low', 'p', 'r', 'a2', 'x', null, '2026-04-01 00:00:00+00')"""
        )
        before = con.execute("select * from marts.fct_alerts order by alert_id").fetchall()

        assert migrate_kept_histories(con) == ["2026-12-fct-alerts-lifecycle"]

        kept = con.execute(
            "select alert_id, tenant_id, alert_rule, severity, principal_id, role_definition_id, subject_id, evidence,"
            " event_at, first_seen_at from marts.fct_alerts order by alert_id"
        ).fetchall()
        assert kept == before
        lifecycle = con.execute(
            "select alert_id, alert_kind, status, opened_at = first_seen_at, resolved_at, is_suppressed,"
            " strftime(history_started_at, '%Y-%m-%d') from marts.fct_alerts order by alert_id"
        ).fetchall()
        assert lifecycle == [
            ("e1", "event", "open", True, None, False, "2026-02-01"),
            ("s1", "state", "open", True, None, False, "2026-02-01"),
            ("s2", "state", "open", True, None, False, "2026-04-01"),
        ]
        # Applied once, recorded; a second call finds nothing to do.
        assert migrate_kept_histories(con) == []
        assert con.execute("select migration_id from meta.history_migrations").fetchall() == [
            ("2026-12-fct-alerts-lifecycle",)
        ]


def test_a_warehouse_without_the_table_needs_no_migration(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert migrate_kept_histories(con) == []
