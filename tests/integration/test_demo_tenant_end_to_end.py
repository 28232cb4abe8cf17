"""The whole path on a generated tenant: every headline metric must equal the generator's ground truth."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.demo_tenant import generate_tenant

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def test_headline_metrics_equal_ground_truth(tmp_path: Path, serve_tenant, run_pipeline) -> None:
    truth = generate_tenant(tmp_path / "tenant", size="S", seed=7, as_of=AS_OF)
    run = run_pipeline(serve_tenant(tmp_path / "tenant"))
    assert run.result.success
    assert run.metrics(truth.tenant_id) == truth.metrics


def test_rerunning_changes_no_history_and_no_metric(tmp_path: Path, serve_tenant, run_pipeline) -> None:
    truth = generate_tenant(tmp_path / "tenant", size="S", seed=7, as_of=AS_OF)
    emulator = serve_tenant(tmp_path / "tenant")
    first = run_pipeline(emulator)
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        audits_after_first = con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone()
    second = run_pipeline(emulator)
    with duckdb.connect(str(second.warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from raw.directory_audits").fetchone() == (
            audits_after_first
        )
        # Snapshots are history: two runs, two dated snapshots of each state collection.
        assert con.execute("select count(*) from meta.loads where collection = 'users'").fetchone()[0] == 2
    assert second.metrics(truth.tenant_id) == truth.metrics
