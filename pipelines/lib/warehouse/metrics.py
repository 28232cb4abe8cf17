"""Reads the headline metrics back out of the warehouse, for the command line and the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import duckdb


def read_headline_metrics(warehouse: Path) -> dict[str, dict[str, float | None]]:
    """``{tenant_id: {metric_name: value}}`` from ``marts.fct_headline_metrics``."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select tenant_id, metric_name, metric_value from marts.fct_headline_metrics order by 1, 2"
        ).fetchall()
    metrics: dict[str, dict[str, float | None]] = {}
    for tenant_id, name, value in rows:
        metrics.setdefault(tenant_id, {})[name] = value
    return metrics


def compare_with_truth(
    warehouse_metrics: dict[str, float | None], truth: dict[str, float | int | None]
) -> list[tuple[str, float | None, float | int | None, bool]]:
    """One row per metric of the ground truth: name, warehouse value, true value, and whether they are equal."""
    rows = []
    for name in sorted(truth):
        expected = truth[name]
        actual = warehouse_metrics.get(name)
        same = actual == expected if actual is not None and expected is not None else actual is expected
        rows.append((name, actual, expected, same))
    return rows
