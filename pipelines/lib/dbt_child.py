"""``pimlens-dbt``: dbt as the pipeline's child, which dies with it and never sees the run's secrets.

Dagster starts dbt through this entry point (the ``dbt`` resource's executable). Before becoming dbt it
- asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), so a killed run leaves no ``dbt build``
  rewriting the marts behind its back;
- removes from its environment every secret the configuration names (client secrets, the pseudonymisation key):
  dbt reads only the warehouse;
- keeps dbt's saved parse valid from one run to the next (``dbt_command``);
- gives a build, test or run started by hand a target folder of its own (``own_target``).

dbt parses the whole project again (4 s of CPU more than reusing its parse, here) whenever its vars or its
profile's values differ from the saved parse's. Both used to differ at every run: the evaluation instant was a var,
and the profile holds the warehouse's path. So the instant goes to the as_of macro as an environment variable (dbt then
parses again only the models that use it), and dbt runs in the warehouse's folder with the file's bare name as the
path, so every warehouse has the same profile as the parse `make` saves in dbt_project/target.

dbt rewrites its artifacts (manifest.json, run_results.json) in the target folder in place, and the pipeline reads
target/manifest.json, the parse `make` saves, while it runs (Dagster's definitions, the Power BI project). A
`pimlens-dbt build` started beside a run would rewrite that file under it: a reader then got half a manifest. So a
command that builds, tests or lists gets a folder of its own, ``target/pimlens-dbt-<start>-<pid>``, starting from the
saved parse, as dagster-dbt gives each of its builds (which pass DBT_TARGET_PATH and keep it). ``parse`` and ``docs``
keep the shared folder: writing it is what they are for.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import time
from importlib import metadata
from pathlib import Path

from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, secret_variable_names
from pipelines.lib.dbt_build_folders import prune_build_folders

_PR_SET_PDEATHSIG = 1

# dbt's threads for a build, run or test, over the profile's 2: a command line option, so dbt's saved parse stays
# valid. The test suite sets 1: it runs two workers on two cores, and a small tenant's build took the same wall time
# on one thread as on two with a fifth less CPU (dbt's threads contend for one interpreter; DuckDB still runs each
# query on every core). Large tenants' builds gain from two threads (docs/benchmarks.md), hence the profile's 2.
THREADS_ENV = "PIMLENS_DBT_THREADS"
THREADED_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile"})

# `pimlens-dbt --as-of INSTANT <dbt arguments>`: the evaluation instant, handed to the as_of macro (macros/as_of.sql).
AS_OF_OPTION = "--as-of"
AS_OF_ENV = "PIMLENS_DBT_AS_OF"


def child_environment(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without the secrets the configuration of PIMLENS_CONFIG names."""
    config = environ.get(CONFIG_ENV)
    secrets = set(secret_variable_names(Path(config))) if config else set()
    return {name: value for name, value in environ.items() if name not in secrets}


def die_with_parent() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def dbt_command(arguments: list[str], environ: dict[str, str]) -> tuple[list[str], dict[str, str], Path | None]:
    """dbt's arguments, environment and working folder (None: stay) for `pimlens-dbt <arguments>`."""
    arguments, environment = list(arguments), child_environment(environ)
    if AS_OF_OPTION in arguments:
        at = arguments.index(AS_OF_OPTION)
        if at + 1 == len(arguments):
            raise SystemExit(f"pimlens-dbt: {AS_OF_OPTION} needs an ISO 8601 instant")
        environment[AS_OF_ENV] = arguments[at + 1]
        del arguments[at : at + 2]
    threads = environment.get(THREADS_ENV)
    if threads and "--threads" not in arguments and any(argument in THREADED_COMMANDS for argument in arguments):
        arguments += ["--threads", threads]
    warehouse = environment.get(WAREHOUSE_ENV)
    if not warehouse or "/" not in warehouse:
        return arguments, environment, None
    # Not resolved: a warehouse reached through a symbolic link keeps its name in the link's folder.
    folder = Path(os.path.abspath(warehouse)).parent
    environment[WAREHOUSE_ENV] = Path(warehouse).name
    # Out of the project's folder, dbt must be told where the project and its profile are.
    environment.setdefault("DBT_PROJECT_DIR", str(paths.DBT_PROJECT_DIR))
    environment.setdefault("DBT_PROFILES_DIR", str(paths.DBT_PROJECT_DIR))
    return arguments, environment, folder


# The dbt commands that write their artifacts to a target folder of their own (the module's docstring says why):
# those that run nodes, and those that only read the project.
OWN_TARGET_COMMANDS = THREADED_COMMANDS | {"show", "ls", "list", "run-operation", "retry", "clone"}
OWN_TARGET_PREFIX = "pimlens-dbt-"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def own_target(arguments: list[str], environment: dict[str, str], shared: Path, name: str) -> Path | None:
    """The target folder of its own, under `shared`, for the dbt command `arguments`; None where the command was
    given a folder (DBT_TARGET_PATH, as dagster-dbt does, or --target-path) or is meant to write the shared one."""
    if "DBT_TARGET_PATH" in environment or "--target-path" in arguments:
        return None
    if not any(argument in OWN_TARGET_COMMANDS for argument in arguments):
        return None
    return shared / f"{OWN_TARGET_PREFIX}{name}"


def prepare_own_target(folder: Path, shared: Path) -> None:
    """Creates `folder` with the saved parse in it (so dbt parses only what changed) and removes the old ones."""
    folder.mkdir(parents=True)
    if shared.joinpath(PARTIAL_PARSE_FILE).exists():
        shutil.copy(shared / PARTIAL_PARSE_FILE, folder / PARTIAL_PARSE_FILE)
    prune_build_folders(shared, OWN_TARGET_PREFIX)


def installed_versions() -> str:
    """What `dbt --version` says, from the installed packages. dagster-dbt asks it before every build; dbt itself
    would start (2 s of CPU) and ask PyPI for its latest release, an outside host, each time."""
    return (
        f"Core:\n  - installed: {metadata.version('dbt-core')}\n\n"
        f"Plugins:\n  - duckdb: {metadata.version('dbt-duckdb')}\n"
    )


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(installed_versions(), end="")
        return
    die_with_parent()
    arguments, environment, folder = dbt_command(sys.argv[1:], dict(os.environ))
    shared = paths.DBT_PROJECT_DIR / "target"
    target = own_target(arguments, environment, shared, f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    if target is not None:
        prepare_own_target(target, shared)
        environment["DBT_TARGET_PATH"] = str(target)
        environment.setdefault("DBT_LOG_PATH", str(target))
        print(f"pimlens-dbt: dbt's artifacts and log go to {target}", file=sys.stderr)
    if folder is not None:
        os.chdir(folder)
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.execve(dbt, [dbt, *arguments], environment)
