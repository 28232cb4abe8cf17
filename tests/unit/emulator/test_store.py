import json
from pathlib import Path

import orjson
import pytest

from pipelines.emulator import TenantFormatError, start_emulator
from pipelines.emulator.store import FALLBACK_TENANT_ID, LineCollection, ParsedCollection, TenantStore

from .conftest import GraphClient, write_tenant


def test_malformed_json_names_the_file_line_and_column(tmp_path: Path, state_dir: Path) -> None:
    tenant = write_tenant(tmp_path, {"v1.0/users": '[\n  {"id": "a"},\n  {"id": }\n]'})
    with pytest.raises(TenantFormatError) as caught:
        start_emulator(tenant, state_dir=state_dir)
    error = caught.value
    assert error.path == tenant / "v1.0" / "users.json"
    assert (error.line, error.column) == (3, 10)
    assert str(error).startswith(f"{tenant / 'v1.0' / 'users.json'}, line 3 column 10: not valid JSON")


def test_a_file_that_is_not_an_array_is_refused_at_start_up(tmp_path: Path, state_dir: Path) -> None:
    tenant = write_tenant(tmp_path, {"v1.0/roleManagement/directory/roleAssignments": '\n  {"value": []}'})
    with pytest.raises(TenantFormatError, match=r"roleAssignments.json, line 2 column 3: must hold a JSON array"):
        start_emulator(tenant, state_dir=state_dir)


def test_an_element_that_is_not_an_object_is_located(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"loganalytics/AuditLogs": '[{"a": 1},\n "oops"]'})
    with pytest.raises(TenantFormatError, match=r"AuditLogs.json, line 2 column 2: element 1 of the array is a string"):
        TenantStore(tmp_path).validate()


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    (tmp_path / "v1.0").mkdir()
    (tmp_path / "v1.0" / "groups.json").write_bytes(b'[{"id": "g1"},\n {"id": "\xff"}]')
    with pytest.raises(TenantFormatError, match=r"groups.json, line 2 column 10: not valid UTF-8"):
        TenantStore(tmp_path).validate()


def test_validate_counts_records(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"v1.0/users": [{"id": "a"}, {"id": "b"}], "beta/x/y": [], "notes/ignored": "not json"})
    assert TenantStore(tmp_path).validate() == {"v1.0/users": 2, "beta/x/y": 0}


RECORDS = [{"id": "a", "n": [1, {"x": "y, z"}]}, {"id": "b", "s": "line\nbreak"}]


def test_one_record_per_line_files_stay_on_disk(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"v1.0/users": RECORDS})
    collection = TenantStore(tmp_path).collection("v1.0/users")
    assert isinstance(collection, LineCollection)
    assert list(collection.records()) == RECORDS
    assert orjson.loads(orjson.dumps([collection.item(i) for i in range(2)])) == RECORDS


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(RECORDS, indent=2),  # pretty-printed
        json.dumps(RECORDS),  # all on one line
        "[" + json.dumps(RECORDS[0]) + ",\n" + json.dumps(RECORDS[1]) + "]",  # first record beside the bracket
    ],
)
def test_other_layouts_are_parsed_whole_with_the_same_records(tmp_path: Path, text: str) -> None:
    write_tenant(tmp_path, {"v1.0/users": text})
    collection = TenantStore(tmp_path).collection("v1.0/users")
    assert isinstance(collection, ParsedCollection)
    assert list(collection.records()) == RECORDS


def test_a_broken_line_is_located_by_the_whole_document_parse(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"v1.0/users": '[\n{"id": "a"},\n{"id": "b",}\n]\n'})
    with pytest.raises(TenantFormatError, match=r"users.json, line 3 column 11: not valid JSON"):
        TenantStore(tmp_path).validate()


def test_a_line_that_is_not_an_object_is_located(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"v1.0/users": '[\n{"id": "a"},\n  ["b"]\n]\n'})
    with pytest.raises(TenantFormatError, match=r"users.json, line 3 column 3: element 1 of the array is an array"):
        TenantStore(tmp_path).validate()


def test_tenant_id_falls_back_to_organization_then_a_fixed_id(tmp_path: Path) -> None:
    write_tenant(tmp_path / "a", {"v1.0/organization": [{"id": "org-1"}]})
    assert TenantStore(tmp_path / "a").tenant_id() == "org-1"
    (tmp_path / "b").mkdir()
    assert TenantStore(tmp_path / "b").tenant_id() == FALLBACK_TENANT_ID


def test_a_missing_file_is_an_empty_collection(serve) -> None:
    emulator = serve({})
    response = GraphClient(emulator).get("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "@odata.context": f"{emulator.url}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances",
        "value": [],
    }


def test_without_start_up_validation_a_broken_file_fails_only_its_own_requests(serve) -> None:
    emulator = serve({"v1.0/groups": "[{oops", "v1.0/users": [{"id": "u1"}]}, validate_on_start=False)
    client = GraphClient(emulator)
    assert client.get("/v1.0/users").json()["value"] == [{"id": "u1"}]
    broken = client.get("/v1.0/groups")
    assert broken.status_code == 500
    assert "groups.json, line 1 column 3: not valid JSON" in broken.json()["error"]["message"]


# One record per line, as the generator writes them; line 2 spells PIM with an escape, as a hand-written file may.
SERVICES = (
    '[\n{"id": "a1", "loggedByService": "PIM"},\n{"id": "a2", "loggedByService": "\\u0050IM"},\n'
    '{"id": "a3", "loggedByService": "Core Directory", "note": "PIM"},\n{"id": "a4", "loggedByService": "PIMS"}\n]\n'
)


def test_a_screened_read_leaves_out_only_lines_that_cannot_hold_the_text(tmp_path: Path) -> None:
    write_tenant(tmp_path, {"v1.0/auditLogs/directoryAudits": SERVICES})
    collection = TenantStore(tmp_path).collection("v1.0/auditLogs/directoryAudits")
    assert isinstance(collection, LineCollection)
    # a1 holds "PIM" as written, a2 may (it has an escape), a3 holds it in another property; a4 only "PIMS".
    assert [i for i, _ in collection.records_holding(["PIM"])] == [0, 1, 2]
    assert [i for i, _ in collection.records_holding(["PIM", "Core Directory"])] == [1, 2]
    assert [record["id"] for _, record in collection.records_holding([])] == ["a1", "a2", "a3", "a4"]
    # Either group may be held: a4 holds "PIMS" alone.
    assert [i for i, _ in collection.records_holding_any([["Core Directory"], ["PIMS"]])] == [1, 2, 3]
