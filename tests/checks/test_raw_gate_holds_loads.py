"""The raw gates judge every load they have not judged, per tenant, and keep their verdicts: a load that fails a
suite that holds loads is held (and named, with the command that releases it) until an operator releases it, even
when later runs bring no new rows; another tenant's loads pass on their own. A suite that holds no loads warns and
records its verdict. Invoked directly on tiny warehouses."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.quality.checks import raw_gates
from pipelines.defs.resources import Warehouse
from pipelines.lib import paths
from pipelines.lib.quality.gate import read_suite_file
from pipelines.lib.warehouse.schema import ensure_meta, ensure_raw_table
from pipelines.lib.warehouse.verdicts import UnknownLoad, held_loads, release_load

AUDIT = (
    '{"activityDateTime": "2026-11-01T10:00:00Z", "activityDisplayName": "Add member to role", "loggedByService": "%s"}'
)


def gate_of(suite_file: str, collection: str):
    """Runs the raw gates of one suite file and returns its result on `collection`."""
    gate = raw_gates([read_suite_file(paths.EXPECTATIONS_DIR / suite_file)])

    def run(warehouse: Warehouse) -> dg.AssetCheckResult:
        results = list(gate(dg.build_asset_check_context(), warehouse=warehouse))
        (result,) = [result for result in results if result.asset_key == dg.AssetKey(["raw", collection])]
        return result

    return run


@pytest.fixture
def audit_gate():
    return gate_of("raw.directory_audits.json", "directory_audits")


def add_load(warehouse: Path, tenant: str, load_id: str, service: str) -> None:
    """One landed audit event in its own load, as a partition run leaves it."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_meta(con)
        ensure_raw_table(con, "directory_audits")
        con.execute(
            "insert into meta.loads values (?, ?, 'directory_audits', 'incremental', now(), now(), 1, 1, 1, 0, 0, "
            "null, 'v1.0/auditLogs/directoryAudits')",
            [load_id, tenant],
        )
        con.execute(
            "insert into raw.directory_audits values (?, ?, now(), ?, ?, null)",
            [tenant, load_id, f"{load_id}-a1", AUDIT % service],
        )


def held(warehouse: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [(row[0], row[2]) for row in held_loads(con)]


def test_a_bad_load_is_held_per_tenant_and_stays_held_until_released(audit_gate, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    # Access Reviews' record of PIM approvals is read with PIM's rows; Core Directory's rows are another collection.
    add_load(warehouse, "first", "20261101T100000Z-directory_audits-first", "Access Reviews")
    add_load(warehouse, "second", "20261101T100000Z-directory_audits-second", "Core Directory")
    gate = Warehouse(path=str(warehouse))

    result = audit_gate(gate)
    assert not result.passed
    # A warning, not a stop: the held load is already out of the marts, the first tenant's are built as usual.
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["rows_checked"].value == 2
    assert held(warehouse) == [("second", "20261101T100000Z-directory_audits-second")]
    for named in ("tenant second", "20261101T100000Z-directory_audits-second", "logged_by_service", "release-load"):
        assert named in result.description

    # The next run brings nothing new for either tenant: the gate does not pass on 0 rows.
    again = audit_gate(gate)
    assert (again.passed, again.metadata["rows_checked"].value) == (False, 0)
    # A later good load of the second tenant passes, and the held events stay held: they are not in the new load.
    add_load(warehouse, "second", "20261102T100000Z-directory_audits-second", "PIM")
    later = audit_gate(gate)
    assert later.metadata["loads_judged"].value == ["20261102T100000Z-directory_audits-second"]
    assert held(warehouse) == [("second", "20261101T100000Z-directory_audits-second")]

    with duckdb.connect(str(warehouse)) as con:
        with pytest.raises(UnknownLoad, match=r"is not held by any gate .*20261101T100000Z-directory_audits-second"):
            release_load(con, "no-such-load", "typo")
        assert release_load(con, "20261101T100000Z-directory_audits-second", "checked by hand", "ops") == 1
        (detail,) = con.execute("select detail from meta.gate_verdicts where verdict = 'released'").fetchone()
    assert detail == "released by ops: checked by hand"
    assert held(warehouse) == []
    assert audit_gate(gate).passed


def test_a_tenant_first_judged_has_only_its_newest_load_judged(audit_gate, tmp_path: Path) -> None:
    """A warehouse from before verdicts were kept: its history is not validated again, only each newest load."""
    warehouse = tmp_path / "w.duckdb"
    add_load(warehouse, "first", "20261101T100000Z-directory_audits-a", "Core Directory")
    add_load(warehouse, "first", "20261102T100000Z-directory_audits-b", "PIM")
    result = audit_gate(Warehouse(path=str(warehouse)))
    assert result.passed
    assert result.metadata["loads_judged"].value == ["20261102T100000Z-directory_audits-b"]


def test_a_suite_that_holds_no_loads_warns_names_the_load_and_keeps_its_verdict(tmp_path: Path) -> None:
    """raw.directory_admin_audits: an event logged by a service other than Core Directory fails it; the load is read
    as it is (the models read it), and the verdict is kept, so the next run does not judge it again."""
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_meta(con)
        ensure_raw_table(con, "directory_admin_audits")
        con.execute(
            "insert into meta.loads values ('l1', 't', 'directory_admin_audits', 'incremental', now(), now(), 2, 2, "
            "1, 0, 0, null, 'v1.0/auditLogs/directoryAudits')"
        )
        for event_id, service in (("e1", "Core Directory"), ("e2", "Self-service Password Management")):
            con.execute(
                "insert into raw.directory_admin_audits values ('t', 'l1', now(), ?, ?, null)",
                [event_id, AUDIT.replace("2026-11-01T10:00:00Z", "2026-11-01T10:00:00.000Z") % service],
            )
    gate = gate_of("raw.directory_admin_audits.json", "directory_admin_audits")
    result = gate(Warehouse(path=str(warehouse)))
    assert (result.passed, result.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert result.metadata["holds_loads"].value is False
    # Both validations are kept (the batch of new loads, then the failing load alone) and rendered in the Data Docs
    # the result links.
    docs = tmp_path / "gx" / "data_docs" / "index.html"
    assert result.metadata["data_docs"].value == docs.as_uri()
    kept = list((tmp_path / "gx" / "validations" / "raw_directory_admin_audits").rglob("*.json"))
    assert [json.loads(file.read_text(encoding="utf-8"))["success"] for file in kept] == [False, False]
    assert len(list((tmp_path / "gx" / "data_docs" / "validations").rglob("*.html"))) == 2
    assert result.metadata["failed_expectations"].value == ["expect_column_values_to_be_in_set"]
    for named in ("tenant t", "load l1", "Self-service Password Management", "read as it is"):
        assert named in result.description
    assert held(warehouse) == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select load_id, verdict from meta.gate_verdicts").fetchall() == [("l1", "warned")]
    assert gate(Warehouse(path=str(warehouse))).metadata["loads_judged"].value == []
