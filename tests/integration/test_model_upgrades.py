"""A warehouse built by an older pimlens is upgraded by the next scheduled run: the incremental tables whose
definition changed are derived from raw again, and the alert log keeps what only it holds."""

from pathlib import Path

import duckdb
import pytest

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"

pytestmark = pytest.mark.slow

HEADLINE = "select tenant_id, metric_name, metric_value from marts.fct_headline_metrics order by all"


def test_an_older_warehouse_is_derived_again_and_keeps_its_alert_history(serve_tenant, run_pipeline) -> None:
    emulator = serve_tenant(TENANT)
    first = run_pipeline(emulator)
    with duckdb.connect(str(first.warehouse)) as con:
        headline = con.execute(HEADLINE).fetchall()
        # An older pimlens: the audit staging had a column since dropped (dbt alone would stop: "schemas out of
        # sync"), and nothing recorded what the tables were built with.
        con.execute("alter table staging.stg_graph__directory_audits add column correlation_id varchar")
        con.execute("delete from meta.dbt_model_fingerprints")
        # Alerts first seen a month ago: raw cannot tell that again, so the upgrade must not rebuild the alert log.
        con.execute("update marts.fct_alerts set first_seen_at = first_seen_at - interval 30 day")
        alerts = con.execute("select alert_id, first_seen_at from marts.fct_alerts order by all").fetchall()
    assert alerts

    upgraded = run_pipeline(emulator)

    with duckdb.connect(str(upgraded.warehouse), read_only=True) as con:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'staging' and table_name = 'stg_graph__directory_audits'"
            ).fetchall()
        }
        assert "correlation_id" not in columns
        assert con.execute("select alert_id, first_seen_at from marts.fct_alerts order by all").fetchall() == alerts
        assert con.execute(HEADLINE).fetchall() == headline
        recorded = con.execute("select count(*) from meta.dbt_model_fingerprints").fetchone()[0]
    assert recorded >= 9  # every incremental model, so the run after this one derives nothing again
