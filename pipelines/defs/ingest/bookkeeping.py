"""The tables the pipeline keeps about its own loads, which dbt reads as sources.

No asset of their own writes them: each collection's load writes its ``meta.loads``, ``meta.coverage`` and
``meta.quarantine`` rows (and its dead letters) in the transaction that lands it, and the raw gates write
``meta.gate_verdicts``. Declared here so the UI shows them in the group that writes them, with what they hold.
"""

import dagster as dg

from pipelines.defs.resources import OWNERS


def _table(key: list[str], group: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key=key, description=description, group_name=group, kinds={"duckdb"}, owners=OWNERS)


loads = _table(["meta", "loads"], "ingest", "One row per committed load of a tenant's collection: rows read and new.")
coverage = _table(
    ["meta", "coverage"], "ingest", "What each run could read of each collection, and the status that stopped it."
)
quarantine = _table(
    ["meta", "quarantine"], "ingest", "Records set aside as they landed, each with the field and the rule it broke."
)
dead_letter = _table(["raw", "dead_letter"], "ingest", "Pages or records that could not be parsed, kept as read.")
gate_verdicts = _table(
    ["meta", "gate_verdicts"], "quality", "Each blocking raw gate's verdict on each tenant's load, and releases."
)
