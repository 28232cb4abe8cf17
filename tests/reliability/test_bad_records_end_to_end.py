"""Bad records in a generated tenant, through the emulator, Dagster and dbt: the run stays green, every bad record
is named in the quarantine with its tenant, collection, load, field and fix, nothing else is lost or doubled, and
once the source is fixed the next run gives the warehouse a clean run would (metrics equal to ground truth). A bad
date that reached raw before quarantine existed fails neither a rerun nor a --full-refresh.

Planted in one run of the size S, seed 7 tenant: an eligibility whose startDateTime is "not-a-date", a user listed
twice, an assignment whose principalId is an object, and a user without an id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.demo_tenant import generate_tenant
from pipelines.emulator import start_emulator
from pipelines.lib import paths
from pipelines.lib.dbt_commands import SCHEDULED_BUILD, as_of_arguments
from pipelines.lib.warehouse.metrics import read_headline_metrics
from tests.integration.conftest import run_refresh
from tests.limits import emulator_options

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
DIRECTORY = Path("v1.0/roleManagement/directory")
USERS = Path("v1.0/users.json")
ELIGIBILITIES = DIRECTORY / "roleEligibilityScheduleInstances.json"
ASSIGNMENTS = DIRECTORY / "roleAssignmentScheduleInstances.json"


def plant_bad_records(tenant: Path) -> dict:
    """Plants one bad record of each kind; returns the id each one concerns, by kind."""
    users = json.loads((tenant / USERS).read_text(encoding="utf-8"))
    eligibilities = json.loads((tenant / ELIGIBILITIES).read_text(encoding="utf-8"))
    assignments = json.loads((tenant / ASSIGNMENTS).read_text(encoding="utf-8"))
    planted = {
        "twice": users[3]["id"],
        "no_id": users[5]["id"],
        "not_a_date": eligibilities[0]["id"],
        "object_id": assignments[0]["id"],
        "object_assignment": (assignments[0]["principalId"], assignments[0]["roleDefinitionId"]),
    }
    no_id = {key: value for key, value in users[5].items() if key != "id"}
    (tenant / USERS).write_text(json.dumps([*users[:5], no_id, *users[6:], users[3]]), encoding="utf-8")
    eligibilities[0]["startDateTime"] = "not-a-date"
    (tenant / ELIGIBILITIES).write_text(json.dumps(eligibilities), encoding="utf-8")
    assignments[0]["principalId"] = {"id": assignments[0]["principalId"]}
    (tenant / ASSIGNMENTS).write_text(json.dumps(assignments), encoding="utf-8")
    return planted


def latest_records(warehouse: Path, table: str) -> set[tuple[str, str]]:
    """(id, hash of the record JSON) of the tenant's latest load of ``table``; fails if an id is stored twice."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"""select id, md5(cast(record as varchar)) from raw.{table}
            where load_id = (select max(load_id) from meta.loads where collection = ?)""",
            [table],
        ).fetchall()
    assert len(rows) == len({row[0] for row in rows}), f"an id of {table} is stored twice"
    return set(rows)


def test_bad_records_are_quarantined_named_and_healed_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = generate_tenant(tmp_path / "tenant", size="S", seed=7, as_of=AS_OF)
    shutil.copytree(tmp_path / "tenant", tmp_path / "faulted")
    planted = plant_bad_records(tmp_path / "faulted")
    design = tmp_path / "tenant" / "design.yaml"
    work = tmp_path / "work"
    work.mkdir()

    with start_emulator(
        tmp_path / "faulted", state_dir=tmp_path / "emulator-1", options=emulator_options()
    ) as emulator:
        faulted = run_refresh(emulator, work, monkeypatch, design=design)
    assert faulted.result.success  # no bad record takes the warehouse down
    tables = ("users", "role_eligibility_schedule_instances", "role_assignment_schedule_instances")
    bad_loads = {table: latest_records(faulted.warehouse, table) for table in tables}
    with duckdb.connect(str(faulted.warehouse), read_only=True) as con:
        found = set(
            con.execute(
                """select tenant_id, quarantine_kind, collection, coalesce(record_id, '-'), field, reason
                from marts.fct_quarantined_records where fix is not null"""
            ).fetchall()
        )
        quality = dict(
            con.execute(
                """select collection, (quarantined_rows, dead_letters, is_clean) from marts.fct_data_quality
                where collection in ('users', 'role_eligibility_schedule_instances')"""
            ).fetchall()
        )
        built = con.execute("select count(*) from marts.fct_role_access where tenant_id = ?", [truth.tenant_id])
        assert built.fetchone()[0] > 0
    tenant = truth.tenant_id
    assert found == {
        (tenant, "quarantined", "users", planted["twice"], "id", "id appears more than once in one snapshot"),
        (tenant, "dead_letter", "users", "-", "id", "record has no string id"),
        (
            tenant,
            "quarantined",
            "role_eligibility_schedule_instances",
            planted["not_a_date"],
            "startDateTime",
            "time does not parse",
        ),
        (
            tenant,
            "quarantined",
            "role_assignment_schedule_instances",
            planted["object_id"],
            "principalId",
            "an object where a scalar id belongs",
        ),
    }
    assert quality == {"users": (1, 1, False), "role_eligibility_schedule_instances": (1, 0, False)}
    (users_check,) = [
        evaluation
        for evaluation in faulted.result.transform.get_asset_check_evaluations()
        if evaluation.asset_key == dg.AssetKey(["raw", "users"]) and evaluation.check_name == "no_quarantined_records"
    ]
    assert (users_check.passed, users_check.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert tenant in users_check.description and planted["twice"] in users_check.description

    # The source is fixed: the next run lands every record, and the warehouse equals what a clean run gives.
    with start_emulator(tmp_path / "tenant", state_dir=tmp_path / "emulator-2", options=emulator_options()) as emulator:
        healed = run_refresh(emulator, work, monkeypatch, design=design)
    assert healed.result.success
    metrics = read_headline_metrics(healed.warehouse)[tenant]
    # Alerts are a log, each raised once: the one the faulted run raised because the quarantined schedule made its
    # assignment look made outside PIM stays in it (docs/reliability.md, "Not handled yet"), and Microsoft's
    # RolesAssignedOutsidePim has no incident for it: one more disagreement. Nothing else differs.
    kept_alert = {"alerts_raised", "pim_alert_disagreements"}
    assert {name: value for name, value in metrics.items() if name not in kept_alert} == {
        name: value for name, value in truth.metrics.items() if name not in kept_alert
    }
    assert metrics["pim_alert_disagreements"] == truth.metrics["pim_alert_disagreements"] + 1
    with duckdb.connect(str(healed.warehouse), read_only=True) as con:
        alerts = set(
            con.execute("select alert_rule, principal_id, role_definition_id from marts.fct_alerts").fetchall()
        )
        # It resolved when the fixed source showed the assignment in PIM again (docs/alerts.md).
        assert con.execute(
            "select status, resolution from marts.fct_alerts where alert_rule = 'assignment_outside_pim'"
            " and principal_id = ? and role_definition_id = ?",
            list(planted["object_assignment"]),
        ).fetchall() == [("resolved", "condition_cleared")]
    expected = {(alert["rule"], alert["principal_id"], alert["role_definition_id"]) for alert in truth.alerts}
    assert expected <= alerts
    assert alerts - expected == {("assignment_outside_pim", *planted["object_assignment"])}
    assert metrics["alerts_raised"] == truth.metrics["alerts_raised"] + 1
    clean_loads = {table: latest_records(healed.warehouse, table) for table in tables}
    lost = {table: {i for i, _ in clean_loads[table]} - {i for i, _ in bad_loads[table]} for table in tables}
    assert lost == {
        "users": {planted["no_id"]},
        "role_eligibility_schedule_instances": {planted["not_a_date"]},
        "role_assignment_schedule_instances": {planted["object_id"]},
    }
    for table in tables:  # every record that did land is the clean run's record, byte for byte
        assert bad_loads[table] <= clean_loads[table]
    with duckdb.connect(str(healed.warehouse), read_only=True) as con:
        unclean = con.execute(
            """select collection from marts.fct_data_quality as quality
            where not is_clean and load_id in (select max(load_id) from meta.loads group by collection)"""
        ).fetchall()
    assert unclean == []

    # A bad date an older release landed in the day's last eligibility load (quarantine did not exist then): a
    # rerun and a --full-refresh still build every model (staging types with try_cast), with no hand edit.
    with duckdb.connect(str(healed.warehouse)) as con:
        con.execute(
            """update raw.role_eligibility_schedule_instances
            set record = json_merge_patch(record, '{"startDateTime": "not-a-date"}')
            where id = ? and load_id = (select max(load_id) from meta.loads where collection = ?)""",
            [planted["not_a_date"], "role_eligibility_schedule_instances"],
        )
    # The scheduled build, at the instant the runs were evaluated at.
    dbt = [str(Path(sys.executable).with_name("pimlens-dbt")), *SCHEDULED_BUILD, *as_of_arguments(AS_OF), "--quiet"]
    environment = {**os.environ, "PIMLENS_WAREHOUSE": str(healed.warehouse)}
    for extra in ([], ["--full-refresh"]):
        built = subprocess.run(
            [*dbt, *extra],
            cwd=paths.DBT_PROJECT_DIR,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert built.returncode == 0, built.stdout[-2000:]
