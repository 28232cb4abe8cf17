"""The Power BI project generator on the real dbt manifest: the project passes every offline check (Microsoft's
JSON schemas, DAX and M parsed by pbi_parsers, TMDL structure and references), the checks catch what they are
for, the model has the shape Power BI needs, and each measure's SQL twin computes what its kind says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml

from pipelines.lib import paths
from pipelines.lib.powerbi.project import write_project
from pipelines.lib.powerbi.spec import SPEC_FILE, SemanticModel, SpecError, load_model
from tests.powerbi_validation import dax_parses, m_parses, project_problems, validate_json

MANIFEST = paths.DBT_PROJECT_DIR / "target" / "manifest.json"
TOM_PYTHON_ENV = "PIMLENS_TOM_PYTHON"
TENANTS = [("00000000-0000-0000-0000-0000000000aa", "contoso"), ("00000000-0000-0000-0000-0000000000bb", "o'brien")]


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return load_model(MANIFEST)


@pytest.fixture(scope="module")
def project(model: SemanticModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("powerbi")
    write_project(folder, model, TENANTS, "C:\\PIM\\exports")
    return folder


def test_the_generated_project_passes_every_offline_check(project: Path) -> None:
    assert project_problems(project) == []


def test_the_checks_catch_a_broken_file_of_each_kind(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(project, broken)
    page = broken / "pimlens.Report" / "definition" / "pages" / "discovery" / "page.json"
    document = json.loads(page.read_text(encoding="utf-8"))
    del document["displayOption"]
    page.write_text(json.dumps(document), encoding="utf-8")
    access = broken / "pimlens.SemanticModel" / "definition" / "tables" / "Access.tmdl"
    text = access.read_text(encoding="utf-8")
    access.write_text(text.replace("COUNTROWS('Access'), ", "COUNTROWS('Access') ", 1), encoding="utf-8")
    date = broken / "pimlens.SemanticModel" / "definition" / "tables" / "Date.tmdl"
    date.write_text(date.read_text(encoding="utf-8").replace("    Typed\n", "    Typed)\n", 1), encoding="utf-8")
    problems = "\n".join(project_problems(broken))
    assert "page.json: 'displayOption' is a required property" in problems
    assert "Access.tmdl: measure 'Eligible Privileged Access' does not parse as DAX" in problems
    assert "Date.tmdl: a partition's M does not parse" in problems


def test_the_parsers_reject_what_power_bi_would() -> None:
    assert dax_parses("CALCULATE(COUNTROWS('T'), 'T'[A] = TRUE(), 'T'[B] IN {\"x\", \"y\"})")
    assert not dax_parses("DIVIDE([A], [B]")
    assert not dax_parses("DIVIDE([A] [B])")
    assert m_parses('let Source = Parquet.Document(File.Contents(ExportFolder & "x.parquet")) in Source')
    assert not m_parses('let Source = Parquet.Document(File.Contents(ExportFolder & "x.parquet") in Source')


def test_a_visual_outside_the_schema_is_rejected(project: Path) -> None:
    visual = project / "pimlens.Report" / "definition" / "pages" / "monitor" / "visuals" / "monitor_0" / "visual.json"
    document = json.loads(visual.read_text(encoding="utf-8"))
    validate_json(document)
    document["position"]["width"] = "wide"
    with pytest.raises(jsonschema.ValidationError):
        validate_json(document)


def test_regenerating_gives_the_same_bytes(model: SemanticModel, project: Path, tmp_path: Path) -> None:
    write_project(tmp_path, model, TENANTS, "C:\\PIM\\exports")
    first = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first == second


def test_the_model_is_a_star_with_a_marked_date_table_and_row_level_security(project: Path) -> None:
    definition = project / "pimlens.SemanticModel" / "definition"
    date = (definition / "tables" / "Date.tmdl").read_text(encoding="utf-8")
    assert "\tdataCategory: Time\n" in date
    assert "\tcolumn Date\n\t\tdataType: dateTime\n\t\tisKey\n" in date
    model_tmdl = (definition / "model.tmdl").read_text(encoding="utf-8")
    assert "annotation __PBI_TimeIntelligenceEnabled = 0" in model_tmdl
    relationships = (definition / "relationships.tmdl").read_text(encoding="utf-8")
    # Facts point at dimensions, single direction; no dimension points at another (one path from Tenant to a fact).
    assert relationships.count("relationship ") == 20
    assert "bothDirections" not in relationships
    assert "fromColumn: Principal." not in relationships and "fromColumn: Role." not in relationships
    assert "fromColumn: 'PIM Requests'.'Requested Date Key'\n\ttoColumn: Date.'Date Key'" in relationships
    # A role per tenant, filtering every table that carries the tenant; a quote in a name is escaped.
    role = (definition / "roles" / "Tenant o'brien.tmdl").read_text(encoding="utf-8")
    assert "role 'Tenant o''brien'\n\tmodelPermission: read" in role
    assert role.count("tablePermission") == 10
    assert (
        "tablePermission 'PIM Requests' = 'PIM Requests'[Tenant Id] = \"00000000-0000-0000-0000-0000000000bb\"" in role
    )
    expressions = (definition / "expressions.tmdl").read_text(encoding="utf-8")
    assert 'expression ExportFolder = "C:\\\\PIM\\\\exports/" meta [IsParameterQuery=true' in expressions
    access = (definition / "tables" / "Access.tmdl").read_text(encoding="utf-8")
    assert 'Parquet.Document(File.Contents(ExportFolder & "fct_star_access_v1.parquet"))' in access
    assert "\t/// Access rows on privileged roles held without an activation" in access
    assert "\t\tdisplayFolder: Access\n" in access
    assert "\tcolumn 'Principal Key'\n\t\tdataType: int64\n\t\tisHidden\n" in access


@pytest.mark.skipif(
    not os.environ.get(TOM_PYTHON_ENV),
    reason=f"{TOM_PYTHON_ENV} names no interpreter with Microsoft's TMDL deserializer (docs/powerbi.md)",
)
def test_microsofts_tmdl_deserializer_loads_the_model_and_writes_it_back_unchanged(
    model: SemanticModel, project: Path, tmp_path: Path
) -> None:
    """Opt-in (its packages are not pimlens dependencies): TOM reads every table, relationship, measure and role,
    and its own serialisation is byte for byte what pimlens wrote, so a save from Desktop churns nothing."""
    definition = project / "pimlens.SemanticModel" / "definition"
    result = subprocess.run(
        [os.environ[TOM_PYTHON_ENV], str(Path(__file__).parents[2] / "powerbi_tom.py"), str(definition), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts == {
        "tables": len(model.tables),
        "relationships": len(model.relationships),
        "roles": len(TENANTS),
        "measures": len(model.measures),
        "expressions": 1,
    }
    written = {p.relative_to(definition): p.read_bytes() for p in definition.rglob("*") if p.is_file()}
    round_trip = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert round_trip == written


def test_descriptions_come_from_the_dbt_yaml(model: SemanticModel) -> None:
    star = yaml.safe_load((paths.DBT_PROJECT_DIR / "models" / "marts" / "star" / "_star__models.yml").read_text())
    documented = {
        (entry["name"], column["name"]): " ".join(column["description"].split())
        for entry in star["models"]
        for column in entry["columns"]
    }
    shown = {(table.model, column.name): column.description for table in model.tables for column in table.columns}
    assert shown == {key: value for key, value in documented.items() if key[0] in {t.model for t in model.tables}}


def _toy_model(tmp_path: Path, measures: list[dict]) -> SemanticModel:
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    spec["measures"] = measures
    path = tmp_path / "model.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return load_model(MANIFEST, path)


def _measure(name: str, **kind: object) -> dict:
    return {"name": name, "folder": "f", "format": "0", "description": "d", "equals": {"sql": "select 1"}, **kind}


def test_each_kind_of_twin_computes_what_its_dax_means(tmp_path: Path) -> None:
    model = _toy_model(
        tmp_path,
        [
            _measure("Decided", count="fct_star_activation_requests", where={"is_decided": True}),
            _measure("Approved", count="fct_star_activation_requests", where={"is_approved": True}),
            _measure("Rate", ratio=["Approved", "Decided"]),
            _measure("Undecided", difference=["All", "Decided"]),
            _measure("All", count="fct_star_activation_requests"),
            _measure("P90", percentile={"of": "fct_star_activation_requests.approval_latency_seconds", "p": 0.9}),
            _measure(
                "Hours", sum="fct_star_activation_requests.requested_duration_hours", where={"outcome": ["a", "b"]}
            ),
            _measure(
                "Guests asking",
                distinct_count="fct_star_activation_requests.principal_key",
                where={"dim_principal.is_guest": True},
            ),
        ],
    )
    with duckdb.connect() as con:
        con.execute(
            """create table fct_star_activation_requests as select * from (values
                (1, true, true, 10.0, 1.0, 'a'), (1, true, false, 20.0, 2.0, 'b'), (2, true, true, 30.0, 4.0, 'c'),
                (3, false, false, null, 8.0, 'a')
            ) as t(
                principal_key, is_decided, is_approved, approval_latency_seconds, requested_duration_hours, outcome
            )"""
        )
        con.execute(
            """create table dim_principal as
            select * from (values (1, true), (2, false), (3, true)) as t(principal_key, is_guest)"""
        )
        values = {m.name: con.execute(f"select {model.sql(m)}").fetchone()[0] for m in model.measures}
    assert values == {
        "Decided": 3,
        "Approved": 2,
        "Rate": pytest.approx(2 / 3),
        "Undecided": 1,
        "All": 4,
        "P90": pytest.approx(28.0),  # PERCENTILE.INC of 10, 20, 30: 20 + 0.8 * 10
        "Hours": 11.0,
        "Guests asking": 2,
    }
    assert model.dax(model.measure("Rate")) == "DIVIDE([Approved], [Decided])"
    assert model.dax(model.measure("Hours")) == (
        "CALCULATE(SUM('PIM Requests'[Requested Duration Hours]), 'PIM Requests'[Outcome] IN {\"a\", \"b\"})"
    )


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (_measure("X", count="fct_nothing"), "model.yml names fct_nothing, which is not one of its tables"),
        (_measure("X", ratio=["Y", "Nope"]), "refers to the measure 'Y', which it does not define"),
        (_measure("X", difference=["X", "X"]), "measure 'X' refers to itself: X -> X"),
        (_measure("X", count="dim_role", where={"no_such": 1}), "dim_role has no column no_such"),
        (_measure("X", count="dim_role", sum="dim_role.role_key"), "give exactly one of count"),
        (_measure("Role", count="dim_role"), "named like a table"),
        (
            _measure("X", count="fct_star_role_compliance", where={"dim_principal.is_guest": True}),
            "fct_star_role_compliance has no relationship to dim_principal",
        ),
    ],
)
def test_a_spec_error_names_what_to_fix(tmp_path: Path, measure: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        _toy_model(tmp_path, [measure])


def test_a_tenant_name_no_file_name_can_hold_still_gets_its_role(model: SemanticModel, tmp_path: Path) -> None:
    write_project(tmp_path, model, [("00000000-0000-0000-0000-0000000000cc", "north/south")], "/exports")
    role = tmp_path / "pimlens.SemanticModel" / "definition" / "roles" / "Tenant north_south.tmdl"
    assert "role 'Tenant north/south'\n" in role.read_text(encoding="utf-8")
    assert project_problems(tmp_path) == []


def test_docs_list_every_measure(model: SemanticModel) -> None:
    text = (paths.REPO_ROOT / "docs" / "powerbi.md").read_text(encoding="utf-8")
    assert [m.name for m in model.measures if f"| {m.name} | {m.folder} |" not in text] == []
