"""``pimlens-dbt``: dbt as the pipeline's child, which dies with it and never sees the run's secrets.

Dagster starts dbt through this entry point (the ``dbt`` resource's executable). Before becoming dbt it
- asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), so a killed run leaves no ``dbt build``
  rewriting the marts behind its back;
- removes from its environment every secret the configuration names (client secrets, the pseudonymisation key):
  dbt reads only the warehouse;
- keeps dbt's saved parse valid from one run to the next (``dbt_command``).

dbt parses the whole project again (4 s of CPU more than reusing its parse, here) whenever its vars or its
profile's values differ from the saved parse's. Both used to differ at every run: the evaluation instant was a var,
and the profile holds the warehouse's path. So the instant goes to the as_of macro as an environment variable (dbt then
parses again only the models that use it), and dbt runs in the warehouse's folder with the file's bare name as the
path, so every warehouse has the same profile as the parse `make` saves in dbt_project/target.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from pipelines.lib import paths
from pipelines.lib.config import CONFIG_ENV, WAREHOUSE_ENV, secret_variable_names

_PR_SET_PDEATHSIG = 1

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


def main() -> None:
    die_with_parent()
    arguments, environment, folder = dbt_command(sys.argv[1:], dict(os.environ))
    if folder is not None:
        os.chdir(folder)
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.execve(dbt, [dbt, *arguments], environment)
