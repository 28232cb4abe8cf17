"""The quarantine check on the raw assets: it passes when nothing is set aside, warns naming tenant, load and
records when something is, and fails (blocking) above the design's threshold. Invoked directly on tiny warehouses."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest
import yaml

from pipelines.defs.quality.quarantine_checks import CHECK_NAME, quarantined_records
from pipelines.defs.resources import ProgrammeDesign, Warehouse
from pipelines.lib.graph.collections import COLLECTIONS_BY_TABLE
from pipelines.lib.graph.extract import ExtractResult
from pipelines.lib.graph.record_file import RecordFiles
from pipelines.lib.warehouse.landing import land_collection

TENANT = "10000000-0000-0000-0000-000000000001"
LOAD = "20261101T000000Z-users-1"
USERS = dg.AssetKey(["raw", "users"])


def warehouse_with_users(tmp_path: Path, users: list[dict]) -> Warehouse:
    path = tmp_path / "users.ndjson"
    with RecordFiles(path, None) as writer:
        for user in users:
            writer.write(user["id"], orjson.dumps({"id": user["id"], "record": user}), user)
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        land_collection(
            con,
            COLLECTIONS_BY_TABLE["users"],
            tenant_id=TENANT,
            load_id=LOAD,
            started_at=datetime(2026, 11, 1, tzinfo=UTC),
            ndjson_path=path,
            extracted=ExtractResult(rows=len(users), pages=1),
            window_start=None,
        )
    return Warehouse(path=str(warehouse))


def design_allowing(tmp_path: Path, records: int) -> ProgrammeDesign:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump({"data_quality": {"max_quarantined_records": records}}), encoding="utf-8")
    return ProgrammeDesign(design_file=str(path))


def users_check(warehouse: Warehouse, design: ProgrammeDesign) -> dg.AssetCheckResult:
    results = list(quarantined_records(dg.build_asset_check_context(), warehouse=warehouse, design=design))
    (result,) = [result for result in results if result.asset_key == USERS and result.check_name == CHECK_NAME]
    # The other collections' latest loads set nothing aside.
    assert all(other.passed for other in results if other.asset_key != USERS)
    return result


@pytest.mark.parametrize(
    ("allowed", "severity"), [(5, dg.AssetCheckSeverity.WARN), (1, dg.AssetCheckSeverity.ERROR)], ids=["warn", "block"]
)
def test_records_set_aside_warn_and_block_above_the_designs_threshold(tmp_path: Path, allowed, severity) -> None:
    users = [{"id": "u1"}, {"id": "u1"}, {"id": "u2", "accountEnabled": "yes"}]
    result = users_check(warehouse_with_users(tmp_path, users), design_allowing(tmp_path, allowed))
    assert (result.passed, result.severity) == (False, severity)
    assert result.metadata["most_in_one_load"].value == 2
    for named in (TENANT, "users", LOAD, "u1 id: id appears more than once", "u2 accountEnabled", "fix them"):
        assert named in result.description


def test_a_clean_load_passes(tmp_path: Path) -> None:
    result = users_check(warehouse_with_users(tmp_path, [{"id": "u1"}]), design_allowing(tmp_path, 0))
    assert result.passed
    assert result.description == "nothing set aside"
