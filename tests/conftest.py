"""How the suite spreads over the machine's cores (`make test` runs `pytest -n auto --dist loadscope`).

xdist hands each worker whole modules, so a module-scoped fixture (a generated tenant, a built warehouse) is built
once, on one worker. The modules named in `SCOPE_PER_PARAM` are split further, one unit per parametrized case (one
per generated tenant), so both workers run tenants; those in `SHARED_SCOPES` are joined into one unit, so the
session fixture they share is built once, not once per worker. The longest units go first (`LONGEST_UNITS`), then
the other slow modules, so the longest work starts at once and the unit tests fill the gaps; `make test` keeps this
order (`--no-loadscope-reorder`) instead of xdist's default of the unit with the most tests first.

Not `--dist loadgroup`: with it (xdist 3.8, pytest 9) a worker set up a module-scoped fixture again for every test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO

import pytest
from xdist.scheduler import LoadScopeScheduling

from pipelines.lib.dbt_child import THREADS_ENV
from tests import ram_basetemp
from tests.shared_tenant import SHARED_TENANT, tenant_id

# Every dbt build the suite starts, in process or in a child, runs on one thread: two workers share two cores, and
# a second dbt thread would only add CPU (pipelines/lib/dbt_child.py says how much).
os.environ.setdefault(THREADS_ENV, "1")

# This session's RAM folder and the lock that marks it in use (tests/ram_basetemp.py).
_RAM_BASETEMP = pytest.StashKey[tuple[Path, IO[str]]]()

# Modules whose module-scoped fixture is parametrized with one expensive case per param (a tenant generated and run
# end to end): each case is a unit of work of its own.
SCOPE_PER_PARAM = ("tests/integration/test_demo_tenant_end_to_end.py",)
PARAM_ID = re.compile(r"\[(?P<id>[^\]]+)\]$")
# Units that share a session-scoped fixture too costly to build on each worker: tests/reliability's baseline (a
# generated tenant and one clean refresh of it), the integration tier's shared refreshes of a generated tenant
# (SHARED_TENANT) and of the hand-written tenant with its variants as tenants of one warehouse
# (tests/integration/conftest.py), and the demo tenant generator's every seed.
SHARED_UNITS = {
    "tests/reliability[baseline]": [
        f"tests/reliability/{module}.py"
        for module in ("test_concurrency", "test_handover_files", "test_killed_runs", "test_privacy", "test_recording")
    ],
    f"tests/integration[{tenant_id(*SHARED_TENANT)}]": [
        f"tests/integration/test_demo_tenant_end_to_end.py[{tenant_id(*SHARED_TENANT)}]",
        "tests/integration/test_as_of.py",
        "tests/integration/test_incremental_builds.py",
    ],
    "tests/integration[handwritten]": [
        f"tests/integration/{module}.py"
        for module in (
            "test_handwritten_tenant",
            "test_model_upgrades",
            "test_several_tenants",
            "test_coverage",
            "test_effective_privilege",
        )
    ],
    # Every seed's model and truth (the `seeded` fixture of tests/unit/demo_tenant): about 20 s built per worker.
    "tests/unit/demo_tenant[every seed]": [
        f"tests/unit/demo_tenant/{module}.py"
        for module in ("test_programme", "test_over_privileged", "test_ground_truth")
    ],
}
SHARED_SCOPES = {member: unit for unit, members in SHARED_UNITS.items() for member in members}


# The longest units, handed out first: xdist hands units out in the order their tests were collected, and a long
# unit started last leaves the other worker idle to the end. In the last full run the reliability baseline's unit kept
# one worker busy about 9 minutes (its refreshes run one after another, each in its own process); the hand-written
# tenant's unit (five modules on one shared run) about 3.5.
LONGEST_UNITS = (
    "tests/reliability[baseline]",
    "tests/integration/test_demo_tenant_end_to_end.py[M-seed7]",
    f"tests/integration[{tenant_id(*SHARED_TENANT)}]",
    "tests/integration[handwritten]",
)


def unit_of(nodeid: str) -> str | None:
    """The unit of work of the test `nodeid` where this module splits or joins modules; None: its module's."""
    module = nodeid.split("::", 1)[0]
    param = PARAM_ID.search(nodeid)
    unit = f"{module}[{param['id']}]" if module in SCOPE_PER_PARAM and param else module
    if unit in SHARED_SCOPES:
        return SHARED_SCOPES[unit]
    return unit if unit != module else None


class ModuleOrParamScheduling(LoadScopeScheduling):
    """xdist's loadscope, with the modules of `SCOPE_PER_PARAM` split by param id and those of `SHARED_SCOPES`
    joined."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid) or super()._split_scope(nodeid)


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's: `-p no:xdist` must still run the suite
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadscope":
        return None
    return ModuleOrParamScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    """The session's files on the RAM disk, unless --basetemp names a folder; xdist's workers get theirs from the
    controller, under its folder."""
    if hasattr(config, "workerinput") or config.option.basetemp:
        return
    claimed = ram_basetemp.claim_folder()
    if claimed is not None:
        config.option.basetemp = str(claimed[0])
        config.stash[_RAM_BASETEMP] = claimed


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A passing session's files leave RAM; a failing one's stay for a look, and the path is said."""
    claimed = session.config.stash.get(_RAM_BASETEMP, None)
    if claimed is None:
        return
    folder, held = claimed
    ram_basetemp.release_folder(folder, held, remove=exitstatus == 0)
    if exitstatus != 0 and folder.exists():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"The tests' files stay in RAM for a look: {folder} (the next run removes them)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest units first, then the other `slow` tests, then the rest; the sort is stable, so each keeps its
    collection order."""

    def rank(item: pytest.Item) -> int:
        unit = unit_of(item.nodeid)
        if unit in LONGEST_UNITS:
            return LONGEST_UNITS.index(unit)
        return len(LONGEST_UNITS) + (0 if item.get_closest_marker("slow") else 1)

    items.sort(key=rank)
