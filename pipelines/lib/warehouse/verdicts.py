"""The verdict of each blocking raw gate on each tenant's load, kept, so a blocked load stays out of the marts.

A gate judges every load it has not judged yet (a tenant it never judged: only that tenant's newest load), not just
the newest one, and writes ``passed`` or ``blocked`` per load (``warned`` for a suite that holds no loads). The
models read no load whose latest verdict is ``blocked`` (the view meta.held_loads, read by the gates, the release
command and dbt's stg_meta__held_loads alike): a snapshot collection falls back to its latest load that passed,
until a later load passes; an event stream's held events stay out until an operator releases the load with
``pimlens release-load``, which writes a ``released`` verdict naming who and why. Other tenants are not held back.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

import duckdb

GATE_VERDICTS_DDL = """create table if not exists meta.gate_verdicts (
    tenant_id varchar not null,
    collection varchar not null,
    load_id varchar not null,
    gate varchar not null,
    verdict varchar not null,
    detail varchar not null,
    decided_at timestamptz not null
)"""


class UnknownLoad(ValueError):
    """``pimlens release-load`` was given a load id that is not held; the message lists the held ones."""


@dataclass(frozen=True)
class Load:
    tenant_id: str
    load_id: str


def loads_to_judge(con: duckdb.DuckDBPyConnection, collection: str, gate: str) -> list[Load]:
    """The loads of ``collection`` that ``gate`` has not judged, oldest first."""
    rows = con.execute(
        """with
            judged as (
                select tenant_id, max(load_id) as last_judged from meta.gate_verdicts
                where collection = $collection and gate = $gate group by tenant_id
            ),
            newest as (
                select tenant_id, max(load_id) as newest from meta.loads
                where collection = $collection group by tenant_id
            )
        select loads.tenant_id, loads.load_id
        from meta.loads as loads
        join newest on newest.tenant_id = loads.tenant_id
        left join judged on judged.tenant_id = loads.tenant_id
        where loads.collection = $collection
            and loads.load_id > coalesce(judged.last_judged, '')
            and (judged.last_judged is not null or loads.load_id = newest.newest)
        order by loads.load_id""",
        {"collection": collection, "gate": gate},
    ).fetchall()
    return [Load(*row) for row in rows]


def record_verdict(
    con: duckdb.DuckDBPyConnection, load: Load, collection: str, gate: str, verdict: str, detail: str
) -> None:
    con.execute(
        "insert into meta.gate_verdicts values (?, ?, ?, ?, ?, ?, now())",
        [load.tenant_id, collection, load.load_id, gate, verdict, detail],
    )


# The one definition of a held load, which the gates, `pimlens release-load` and the models
# (stg_meta__held_loads) all read: a load whose latest verdict by some gate is ``blocked``.
HELD_LOADS_VIEW = """select tenant_id, collection, load_id, gate, detail, decided_at from meta.gate_verdicts
    qualify row_number() over (partition by load_id, gate order by decided_at desc) = 1 and verdict = 'blocked'"""


def held_loads(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str, str]]:
    """(tenant, collection, load, gate, why) of every load a gate blocked and nobody released."""
    return con.execute(
        "select tenant_id, collection, load_id, gate, detail from meta.held_loads order by load_id"
    ).fetchall()


def release_load(con: duckdb.DuckDBPyConnection, load_id: str, reason: str, operator: str | None = None) -> int:
    """Lets a held load into the marts from the next build; returns how many gates' verdicts it overrode."""
    held = [row for row in held_loads(con) if row[2] == load_id]
    if not held:
        listed = ", ".join(row[2] for row in held_loads(con)) or "none"
        raise UnknownLoad(f"load {load_id} is not held by any gate (held loads: {listed}); check the id")
    who = operator or getpass.getuser()
    for tenant_id, collection, _, gate, _ in held:
        record_verdict(con, Load(tenant_id, load_id), collection, gate, "released", f"released by {who}: {reason}")
    return len(held)
