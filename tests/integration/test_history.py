"""State history from dated snapshots: an eligibility removed between two runs ends, the rest stay current."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

TENANT = Path(__file__).parents[1] / "fixtures" / "handwritten_tenant"
ELIGIBILITY = "v1.0/roleManagement/directory/roleEligibilityScheduleInstances.json"

pytestmark = pytest.mark.slow


def test_a_removed_eligibility_gets_a_valid_to_and_leaves_the_daily_trend(tmp_path, serve_tenant, run_pipeline) -> None:
    run_pipeline(serve_tenant(TENANT))

    later = shutil.copytree(TENANT, tmp_path / "later")
    remaining = [row for row in json.loads((later / ELIGIBILITY).read_text()) if row["id"] != "e1-e"]
    (later / ELIGIBILITY).write_text(json.dumps(remaining))
    run = run_pipeline(serve_tenant(later))

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        versions = con.execute(
            """select instance_id, valid_to is null from intermediate.int_access_history_versioned
            where access_state = 'eligible' order by instance_id"""
        ).fetchall()
        assert versions == [("e1-e", False), ("e2-e", True), ("e3-e", True)]
        history = con.execute(
            """select principal_id, role_name, is_current from marts.fct_role_access_history
            where access_state = 'eligible' and is_privileged_role order by principal_id"""
        ).fetchall()
        assert history == [("u1", "Global Administrator", False), ("u2", "Security Administrator", True)]
        today = con.execute(
            """select sum(eligible_access) from marts.fct_privileged_access_daily
            where snapshot_date = current_date"""
        ).fetchone()
        assert today == (1,)  # u2's Security Administrator; u1's Global Administrator eligibility ended today
