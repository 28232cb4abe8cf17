"""pimlens-dbt: dbt's environment without the configuration's secrets, and dbt dying with its parent."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pipelines.lib import paths
from pipelines.lib.dbt_child import (
    AS_OF_ENV,
    PARTIAL_PARSE_FILE,
    THREADS_ENV,
    child_environment,
    dbt_command,
    own_target,
    prepare_own_target,
)


def test_the_secrets_the_configuration_names_are_removed_and_nothing_else(tmp_path: Path) -> None:
    config = tmp_path / "pimlens.yaml"
    config.write_text(
        "pseudonymise: {key_env: PSEUDO_KEY}\n"
        "tenants:\n"
        "  - {name: a, tenant_id: x, client_id: y, client_secret_env: SECRET_A}\n"
        "  - {name: b, tenant_id: x, client_id: y, certificate_path: cert.pem}\n",
        encoding="utf-8",
    )
    environ = {
        "PIMLENS_CONFIG": str(config),
        "SECRET_A": "s",
        "PSEUDO_KEY": "k",
        "PIMLENS_WAREHOUSE": "/w.duckdb",
        "PATH": "/bin",
    }
    assert child_environment(environ) == {
        "PIMLENS_CONFIG": str(config),
        "PIMLENS_WAREHOUSE": "/w.duckdb",
        "PATH": "/bin",
    }
    assert child_environment({"PATH": "/bin"}) == {"PATH": "/bin"}


def test_dbt_runs_in_the_warehouse_folder_on_its_bare_name_with_the_instant_in_its_environment(tmp_path) -> None:
    """So that dbt's saved parse stays valid for every warehouse and every instant (dbt_child's docstring)."""
    warehouse = tmp_path / "site" / "warehouse.duckdb"
    arguments, environment, folder = dbt_command(
        ["build", "--as-of", "2026-11-01T00:00:00+00:00", "--select", "x"], {"PIMLENS_WAREHOUSE": str(warehouse)}
    )
    assert arguments == ["build", "--select", "x"]
    assert folder == warehouse.parent
    assert environment == {
        "PIMLENS_WAREHOUSE": "warehouse.duckdb",
        AS_OF_ENV: "2026-11-01T00:00:00+00:00",
        "DBT_PROJECT_DIR": str(paths.DBT_PROJECT_DIR),
        "DBT_PROFILES_DIR": str(paths.DBT_PROJECT_DIR),
    }
    # A bare name is already relative to where dbt runs; without --as-of, dbt evaluates at its own start.
    assert dbt_command(["parse"], {"PIMLENS_WAREHOUSE": "warehouse.duckdb"}) == (
        ["parse"],
        {"PIMLENS_WAREHOUSE": "warehouse.duckdb"},
        None,
    )


# A parent that starts a child which asks for the death signal, as pimlens-dbt does, prints the child's PID once
# the child has asked, and waits to be killed.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "from pipelines.lib.dbt_child import die_with_parent; die_with_parent(); print('asked', flush=True); "
    "import time; time.sleep(60)"], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "asked"
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = _state(child)
        if state in (None, "Z", "X"):
            return
        time.sleep(0.05)
    raise AssertionError(f"the child {child} outlived its killed parent (state {_state(child)})")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_the_dbt_resource_still_skips_dagster_dbts_in_process_adapter() -> None:
    """DbtWithoutInProcessAdapter overrides a private hook of dagster-dbt: an upgrade that renames it must fail here,
    not silently bring back 2 s of CPU a run."""
    from dagster_dbt import DbtCliResource

    from pipelines.defs.resources import DbtWithoutInProcessAdapter

    assert callable(getattr(DbtCliResource, "_initialize_dbt_core_adapter", None))
    resource = DbtWithoutInProcessAdapter(project_dir=str(paths.DBT_PROJECT_DIR), dbt_executable=sys.executable)
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_version_is_answered_from_the_installed_packages_as_dagster_dbt_reads_it() -> None:
    """dagster-dbt reads the first x.y.z of `<executable> --version` before every build (its `_cli_version`)."""
    from importlib import metadata

    from dagster_dbt import DbtCliResource

    executable = Path(sys.executable).with_name("pimlens-dbt")
    answer = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True, timeout=30)
    assert answer.stdout.startswith(f"Core:\n  - installed: {metadata.version('dbt-core')}\n")
    resource = DbtCliResource(project_dir=str(paths.DBT_PROJECT_DIR), dbt_executable=str(executable))
    assert str(resource._cli_version) == metadata.version("dbt-core")


def test_a_build_started_by_hand_gets_a_target_folder_of_its_own_beside_the_saved_parse(tmp_path: Path) -> None:
    """The pipeline reads target/manifest.json while it runs: only parse and docs may rewrite it."""
    shared = tmp_path / "target"
    shared.mkdir()
    (shared / PARTIAL_PARSE_FILE).write_bytes(b"the saved parse")
    folder = own_target(["build", "--select", "x"], {}, shared, "1-2")
    assert folder == shared / "pimlens-dbt-1-2"
    prepare_own_target(folder, shared)
    assert (folder / PARTIAL_PARSE_FILE).read_bytes() == b"the saved parse"
    assert own_target(["test", "--select", "test_type:unit"], {}, shared, "3") == shared / "pimlens-dbt-3"
    # Given a folder (dagster-dbt passes DBT_TARGET_PATH), or meant to write the shared one: unchanged.
    assert own_target(["build"], {"DBT_TARGET_PATH": "/t"}, shared, "4") is None
    assert own_target(["test", "--target-path", "/t"], {}, shared, "5") is None
    assert own_target(["parse"], {}, shared, "6") is None
    assert own_target(["docs", "generate"], {}, shared, "7") is None


def test_the_threads_the_environment_asks_for_are_passed_to_commands_that_build() -> None:
    arguments, _, _ = dbt_command(["build", "--select", "x"], {THREADS_ENV: "1"})
    assert arguments == ["build", "--select", "x", "--threads", "1"]
    assert dbt_command(["build", "--threads", "4"], {THREADS_ENV: "1"})[0] == ["build", "--threads", "4"]
    assert dbt_command(["parse"], {THREADS_ENV: "1"})[0] == ["parse"]
    assert dbt_command(["build"], {})[0] == ["build"]
