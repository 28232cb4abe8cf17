"""How the suite spreads over the machine's cores (`make test` runs `pytest -n 2 --dist loadgroup`).

Every test joins its module's xdist group, so a module-scoped fixture (a generated tenant, a built warehouse) is
built once, on one worker. A parametrized module fixture whose cases are worth a worker each marks its params with
a group of their own (`tests/integration/test_demo_tenant_end_to_end.py`). The slow end-to-end groups go first, so
the longest work starts at once and the unit tests fill the gaps; `make test` keeps this order
(`--no-loadscope-reorder`) instead of xdist's default of the largest group first.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))
    items.sort(key=_start_order)


def _start_order(item: pytest.Item) -> int:
    """`slow` first, then the rest; the sort is stable, so each keeps its collection order."""
    return 0 if item.get_closest_marker("slow") else 1
