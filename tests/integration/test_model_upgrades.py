"""A warehouse built by an older pimlens is upgraded by the next scheduled run: the incremental tables whose
definition changed are derived from raw again, the audit events are typed, and the alert log keeps what only it
holds.

The warehouse is a copy of the shared run of the hand-written tenant's variants (tests/integration/
handwritten_variants.py): four tenants, of which the next run refreshes the hand-written one only. What the
upgrade must do it does to the whole warehouse, so every check reads every tenant's rows: the other three, not
ingested again, are typed again and derived again all the same."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import paths
from pipelines.lib.warehouse.model_upgrades import incremental_models

from .conftest import PipelineRun, VariantsRun
from .handwritten_variants import HANDWRITTEN_TENANT as TENANT
from .handwritten_variants import VARIANTS

pytestmark = pytest.mark.slow

LIFECYCLE_COLUMNS = (
    "alert_kind",
    "status",
    "opened_at",
    "resolved_at",
    "resolution",
    "acknowledged_by_display_name",
    "is_suppressed",
    "suppression_reason",
    "history_started_at",
)
HEADLINE = "select tenant_id, metric_name, metric_value from marts.fct_headline_metrics order by all"


def test_an_older_warehouse_is_derived_again_and_keeps_its_alert_history(
    handwritten_variants_run: VariantsRun, serve_tenant, run_pipeline, tmp_path: Path
) -> None:
    # The variants' refresh, copied with everything it left beside its warehouse; the next run here refreshes the
    # copy (run_pipeline's folder is tmp_path), configured with the hand-written tenant alone.
    run = handwritten_variants_run
    shutil.copytree(run.warehouse.parent, tmp_path, dirs_exist_ok=True)
    first = PipelineRun(tmp_path / run.warehouse.name, run.result)
    emulator = serve_tenant(TENANT)
    with duckdb.connect(str(first.warehouse)) as con:
        headline = con.execute(HEADLINE).fetchall()
        # Every tenant of the copy has its headline metrics, and so has to keep them.
        assert {tenant for tenant, _, _ in headline} == {variant.tenant_id for variant in VARIANTS}
        # An older pimlens: the activation mart had a column since dropped (dbt alone would stop: "schemas out of
        # sync"), nothing recorded what the tables were built with, and the audit events were typed in dbt only.
        con.execute("alter table marts.fct_activation_requests add column correlation_id varchar")
        con.execute("drop table raw.directory_audits_typed")
        con.execute("delete from meta.dbt_model_fingerprints")
        # Alerts first seen a month ago: raw cannot tell that again, so the upgrade must not rebuild the alert log.
        con.execute("update marts.fct_alerts set first_seen_at = first_seen_at - interval 30 day")
        alerts = con.execute("select alert_id, first_seen_at from marts.fct_alerts order by all").fetchall()
        # And the alert log had no lifecycle yet: the upgrade's migration adds it, dbt alone would stop.
        for column in LIFECYCLE_COLUMNS:
            con.execute(f"alter table marts.fct_alerts drop column {column}")
    assert alerts

    upgraded = run_pipeline(emulator)

    with duckdb.connect(str(upgraded.warehouse), read_only=True) as con:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'fct_activation_requests'"
            ).fetchall()
        }
        assert "correlation_id" not in columns
        # Every stored event typed again, not only the ones the second run landed.
        assert (
            con.execute("select count(*) from raw.directory_audits_typed").fetchone()
            == con.execute("select count(*) from raw.directory_audits").fetchone()
        )
        assert con.execute("select alert_id, first_seen_at from marts.fct_alerts order by all").fetchall() == alerts
        # Migrated, then built on: every kept alert has a lifecycle, and the state alerts still hold, open since
        # they were first seen.
        assert con.execute("select migration_id from meta.history_migrations").fetchall() == [
            ("2026-12-fct-alerts-lifecycle",)
        ]
        assert con.execute(
            "select count(*) from marts.fct_alerts where status is null or history_started_at is null"
            " or (alert_kind = 'state' and (status != 'open' or opened_at != first_seen_at))"
        ).fetchone() == (0,)
        assert con.execute(HEADLINE).fetchall() == headline
        recorded = {row[0] for row in con.execute("select unique_id from meta.dbt_model_fingerprints").fetchall()}
    # Every incremental model, so the run after this one derives nothing again.
    manifest = json.loads((paths.DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert recorded == set(incremental_models(manifest))
