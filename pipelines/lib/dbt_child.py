"""``pimlens-dbt``: dbt as the pipeline's child, which dies with it and never sees the run's secrets.

Dagster starts dbt through this entry point (the ``dbt`` resource's executable). Before becoming dbt it
- asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), so a killed run leaves no ``dbt build``
  rewriting the marts behind its back;
- removes from its environment every secret the configuration names (client secrets, the pseudonymisation key):
  dbt reads only the warehouse.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from pipelines.lib.config import CONFIG_ENV, secret_variable_names

_PR_SET_PDEATHSIG = 1


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


def main() -> None:
    die_with_parent()
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.execve(dbt, [dbt, *sys.argv[1:]], child_environment(dict(os.environ)))
