"""The data-quality lines a refresh ends with: what its loads set aside, which loads the gates hold or warn about,
and where the Great Expectations Data Docs of every validation are."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.quality.gate import data_docs_index
from pipelines.lib.warehouse.locks import connect_waiting
from pipelines.lib.warehouse.quarantine import latest_load_quarantine
from pipelines.lib.warehouse.verdicts import held_loads

# Latest loads (per tenant and collection) that a suite holding no loads warned about: read as they are.
WARNED_LOADS_SQL = """select count(distinct verdicts.load_id) from meta.gate_verdicts as verdicts
    where verdicts.verdict = 'warned' and verdicts.load_id in (
        select max(load_id) from meta.loads group by tenant_id, collection
    )"""


def quality_summary(warehouse: Path) -> list[str]:
    try:
        with connect_waiting(str(warehouse), read_only=True) as con:
            set_aside = latest_load_quarantine(con)
            held = held_loads(con)
            warned = con.execute(WARNED_LOADS_SQL).fetchone()[0]
    except (duckdb.CatalogException, duckdb.IOException):
        return []  # no run has gated this warehouse yet
    records = sum(item.total for item in set_aside)
    collections = sorted({item.collection for item in set_aside})
    lines = [
        f"Data quality: {records} records set aside by the latest loads"
        + (f" ({', '.join(collections)}; marts.fct_quarantined_records)" if collections else "")
        + f", {len(held)} loads held out of the marts"
        + (" (`pimlens release-load` lets one in)" if held else "")
        + f", {warned} loads read despite a failed expectation"
    ]
    docs = data_docs_index(warehouse)
    if docs.exists():
        lines.append(f"Great Expectations Data Docs: {docs.as_uri()}")
    return lines
