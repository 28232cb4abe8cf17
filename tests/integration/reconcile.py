"""Fingerprints of what a run landed, to compare a run under faults with a clean one."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.graph.collections import COLLECTIONS, CollectionSpec, LoadMode


def landed_fingerprint(
    warehouse: Path, specs: tuple[CollectionSpec, ...] = COLLECTIONS
) -> dict[str, tuple[int, int, str]]:
    """Per raw table: rows, distinct ids and a hash of (id, record) over the latest snapshot, each id's newest row of
    a cache, or the whole stream. Ordered by id, then record: a nested collection can hold one id under two parents
    (one principal's incidents under two PIM alerts), landed in whichever order the parents' reads finished."""
    fingerprint = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in specs:
            rows = f"raw.{spec.table}"
            where = ""
            if spec.is_cache:
                newest_per_id = "qualify load_id = max(load_id) over (partition by tenant_id, id)"
                rows = f"(select * from raw.{spec.table} {newest_per_id})"
            elif spec.mode is LoadMode.SNAPSHOT:
                where = (
                    "where load_id = (select max(load_id) from meta.loads "
                    f"where collection = '{spec.table}' and tenant_id = rows.tenant_id)"
                )
            fingerprint[spec.table] = con.execute(
                f"""select count(*), count(distinct id),
                       coalesce(md5(string_agg(id || ':' || digest, ',' order by id, digest)), '')
                from (select id, md5(record::varchar) as digest from {rows} as rows {where})"""
            ).fetchone()
    return fingerprint


def orphan_rows(warehouse: Path, specs: tuple[CollectionSpec, ...] = COLLECTIONS) -> int:
    """Raw rows whose load has no manifest row: a load that was not committed whole."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(
            con.execute(
                f"select count(*) from raw.{spec.table} where load_id not in (select load_id from meta.loads)"
            ).fetchone()[0]
            for spec in specs
        )
