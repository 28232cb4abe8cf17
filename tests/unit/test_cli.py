"""The ``pimlens`` command line, called through its entry point: arguments, messages and exit codes.

No pipeline runs here: ``pimlens run``'s refresh process is replaced by one that writes what a refresh records
(meta tables, the analytics database, the result file), so the summary is read from a real DuckDB file.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.lib import demo_session, paths
from pipelines.lib.warehouse.schema import ensure_meta

T1 = "10000000-0000-0000-0000-000000000001"
T2 = "10000000-0000-0000-0000-000000000002"
CLIENT = "c0000000-0000-0000-0000-000000000001"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration of two tenants, their secret in the environment."""
    monkeypatch.setenv("READER_SECRET", "s3cret")
    entries = "".join(
        f"  - {{name: {name}, tenant_id: {tenant}, client_id: {CLIENT}, client_secret_env: READER_SECRET}}\n"
        for name, tenant in (("contoso", T1), ("fabrikam", T2))
    )
    (tmp_path / "pimlens.yaml").write_text(f"tenants:\n{entries}", encoding="utf-8")
    # The parsed dbt project a refresh loads; its content matters only to a real refresh.
    (tmp_path / "dbt" / "target").mkdir(parents=True)
    (tmp_path / "dbt" / "target" / "manifest.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(paths, "DBT_PROJECT_DIR", tmp_path / "dbt")
    return tmp_path


def publish(analytics: Path, metrics: dict[str, dict[str, float | None]]) -> None:
    analytics.unlink(missing_ok=True)
    with duckdb.connect(str(analytics)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_headline_metrics (tenant_id varchar, metric_name varchar, metric_value double)"
        )
        for tenant, values in metrics.items():
            for name, value in values.items():
                con.execute("insert into marts.fct_headline_metrics values (?, ?, ?)", [tenant, name, value])


def record(warehouse: Path, at: datetime, *, blocked: bool = False) -> None:
    """What a refresh of both tenants records at `at`, contoso with a quarantined record and a forbidden surface."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_meta(con)
        for tenant, collection, received, inserted in (
            (T1, "users", 120, 7),
            (T1, "directory_audits", 900, 300),
            (T2, "users", 50, 0),
        ):
            load = f"{at:%Y%m%dT%H%M%S}-{tenant[-1]}-{collection}"
            con.execute(
                "insert into meta.loads values (?, ?, ?, 'snapshot', ?, ?, ?, ?, 1, 0, 0, null, 'x')",
                [load, tenant, collection, at, at, received, inserted],
            )
            con.execute(
                "insert into meta.gate_verdicts values (?, ?, ?, 'raw_gate', ?, '', ?)",
                [tenant, collection, load, "blocked" if blocked and tenant == T1 else "passed", at],
            )
        con.execute(
            "insert into meta.quarantine values (?, 'l', 'users', 'u1', 'createdDateTime', 'no zone', '', null, ?)",
            [T1, at],
        )
        for status, checked in (("ok", at), ("forbidden", at + timedelta(seconds=1))):
            con.execute(
                "insert into meta.coverage values (?, 'role_assignment_schedule_requests', ?, ?, 403, null, "
                "'RoleAssignmentSchedule.ReadWrite.Directory', 0, 0, 1, 0, null)",
                [T1, checked, status],
            )


def fake_refresh(calls: list, *, code: int = 0, blocked: bool = False, metrics: dict | None = None):
    def run_refresh(env: dict[str, str], log_file: Path, args: tuple[str, ...] = ()) -> int:
        calls.append((env, args))
        warehouse = Path(env["PIMLENS_WAREHOUSE"])
        record(warehouse, datetime.now(UTC), blocked=blocked)
        publish(warehouse.with_name("analytics.duckdb"), metrics or {})
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text("dagster's event log\n", encoding="utf-8")
        only = args[args.index("--tenant") + 1] if "--tenant" in args else None
        ingests = {name: code == 0 for name in ("contoso", "fabrikam") if only in (None, name)}
        Path(args[args.index("--result") + 1]).write_text(json.dumps({"ingests": ingests, "transform": code == 0}))
        return code

    return run_refresh


def run(site: Path, *extra: str) -> int:
    return cli.main(
        ["run", "--config", str(site / "pimlens.yaml"), "--warehouse", str(site / "var" / "warehouse.duckdb"), *extra]
    )


def test_run_summarises_each_tenant_from_what_the_refresh_recorded(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = site / "var" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    record(warehouse, LONG_AGO)  # an earlier run's loads are not this run's
    publish(warehouse.with_name("analytics.duckdb"), {T1: {"eligible_share": 0.5, "standing_admins": 4}})
    calls: list = []
    after = {T1: {"eligible_share": 0.75, "standing_admins": 4}, T2: {"eligible_share": None}}
    monkeypatch.setattr(demo_session, "run_refresh", fake_refresh(calls, metrics=after))

    assert run(site, "--as-of", "2026-11-01") == 0

    out = capsys.readouterr().out
    ((env, args),) = calls
    assert env["PIMLENS_AS_OF"] == "2026-11-01T00:00:00+00:00"
    assert env["PIMLENS_CONFIG"] == str((site / "pimlens.yaml").resolve())
    assert "--tenant" not in args
    contoso, fabrikam = out.split("tenant contoso")[1].split("tenant fabrikam")
    assert f"({T1}): ingest succeeded, transform succeeded" in contoso
    assert "2 loads, 1020 rows, 307 new" in contoso
    assert "set aside   1 records" in contoso
    assert "not covered 1 surfaces" in contoso and "  role_assignment_schedule_requests (forbidden)\n" in contoso
    assert "raw gates   2 passed" in contoso
    assert "1 changed since the last run:" in contoso
    assert "eligible_share" in contoso and "0.5 -> 0.75" in contoso
    assert "standing_admins" not in contoso
    assert "1 loads, 50 rows, 0 new" in fabrikam
    assert "set aside   0 records" in fabrikam
    assert "not covered 0 surfaces" in fabrikam
    assert "first publication for this tenant" in fabrikam


def test_run_exits_1_when_a_gate_held_a_load_and_names_the_release(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list = []
    monkeypatch.setattr(demo_session, "run_refresh", fake_refresh(calls, blocked=True))

    assert run(site, "--tenant", "contoso") == 1

    out = capsys.readouterr().out
    ((_, args),) = calls
    assert args[args.index("--tenant") + 1] == "contoso"
    assert "tenant fabrikam" not in out
    assert "raw gates   2 blocked" in out
    assert "HELD        directory_audits by raw_gate" in out and "pimlens release-load" in out


def test_run_exits_1_and_says_where_the_log_is_when_a_run_failed(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_session, "run_refresh", fake_refresh([], code=1))

    assert run(site) == 1

    captured = capsys.readouterr()
    assert "ingest FAILED, transform FAILED" in captured.out
    assert "A run failed: its steps are in" in captured.err


def test_run_refuses_an_unknown_tenant_in_one_line_before_any_run(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list = []
    monkeypatch.setattr(demo_session, "run_refresh", fake_refresh(calls))

    assert run(site, "--tenant", "northwind") == 2

    err = capsys.readouterr().err
    assert calls == []
    assert err.count("\n") == 1
    assert "no tenant named 'northwind'" in err and "['contoso', 'fabrikam']" in err


def test_run_asks_for_the_parsed_dbt_project_before_any_run(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list = []
    monkeypatch.setattr(demo_session, "run_refresh", fake_refresh(calls))
    (site / "dbt" / "target" / "manifest.json").unlink()

    assert run(site) == 2

    assert calls == []
    assert capsys.readouterr().err == (
        "pimlens run: the dbt project is not parsed yet: run `make dbt_project/target/manifest.json` first\n"
    )


def test_run_names_a_missing_configuration_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--config", str(tmp_path / "nowhere.yaml")]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"No pimlens configuration at {tmp_path / 'nowhere.yaml'}" in err


def test_every_option_of_every_command_has_help() -> None:
    def parsers(parser: argparse.ArgumentParser, name: str):
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child_name, child in action.choices.items():
                    yield from parsers(child, f"{name} {child_name}")

    undocumented = [
        f"{name} {action.option_strings or action.dest}"
        for name, parser in parsers(cli.build_parser(), "pimlens")
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert undocumented == []


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"pimlens {version('pimlens')}\n"


def test_the_command_line_loads_without_the_pipeline() -> None:
    """`pimlens --help` stays fast: Dagster, dbt and the Graph SDK are imported by the commands that use them."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pipelines.cli; print(sorted(m.split('.')[0] for m in sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    heavy = {"dagster", "dbt", "msgraph", "azure", "pandas", "great_expectations"}
    assert heavy & set(ast.literal_eval(loaded)) == set()


@pytest.mark.parametrize("command", [["metrics"], ["release-load", "l1", "--reason", "r"]])
def test_a_missing_database_is_named_in_one_line_and_not_created(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.duckdb"

    assert cli.main([*command, "--warehouse", str(missing)]) == 2

    err = capsys.readouterr().err
    assert err == (
        f"pimlens {command[0]}: no {'analytics database' if command == ['metrics'] else 'warehouse'} at {missing}: "
        "run `pimlens run` (or `make demo`) first, or point --warehouse at one\n"
    )
    assert not missing.exists()


def test_metrics_of_a_database_without_them_names_the_right_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    assert cli.main(["metrics", "--warehouse", str(empty)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds no marts.fct_headline_metrics: point --warehouse at the analytics database" in err


def test_metrics_of_a_locked_warehouse_names_the_holder_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    publish(warehouse, {T1: {"eligible_share": 0.5}})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); print('held'); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert cli.main(["metrics", "--warehouse", str(warehouse)]) == 2
    finally:
        holder.communicate("")

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"pimlens metrics: the database is locked by PID {holder.pid} (" in err
    assert "wait for that run to finish" in err


def test_check_validates_configuration_and_design_offline(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    design = site / "design.yaml"
    design.write_text(paths.DEFAULT_DESIGN_FILE.read_text(encoding="utf-8"), encoding="utf-8")

    assert cli.main(["check", "--config", str(site / "pimlens.yaml"), "--design", str(design)]) == 0

    out = capsys.readouterr().out
    assert f"configuration {site / 'pimlens.yaml'}: valid" in out
    assert (
        f"tenant contoso ({T1}): application {CLIENT} (secret), public cloud, Graph at https://graph.microsoft.com"
        in out
    )
    assert f"tenant fabrikam ({T2})" in out
    assert f"design {design}: valid" in out

    design.write_text("tiers: [unclosed\n", encoding="utf-8")
    assert cli.main(["check", "--config", str(site / "pimlens.yaml"), "--design", str(design)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"pimlens check: {design} is not valid YAML:")


def test_check_names_the_unset_secret_variable(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("READER_SECRET")

    assert cli.main(["check", "--config", str(site / "pimlens.yaml")]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "tenants[0].client_secret_env names READER_SECRET, but that environment variable is not set" in err
