"""Records that do not fit are set aside as they land, with their reason, and the rest of the load proceeds.

The models type a record's fields by the rules below; a record one of them rejects would otherwise either stop the
build (a cast that throws), or be read as something it is not (a time without a zone read in the host's zone, an
object where an id belongs becoming a phantom principal). So every landed load is checked, in the transaction
that lands it, and each record that breaks a rule moves from its raw table to ``meta.quarantine``, whole, with
the tenant, collection, load, record id, field and reason. A second copy of an id within one snapshot moves there
too (the first copy stays). Dead letters, the records the extractor could not even read, are in
``raw.dead_letter``; the dbt model ``fct_quarantined_records`` shows both.

The raw table then holds only records the models can type; the quarantine still holds the JSON as it came.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# Top-level properties that hold an instant: ISO-8601 with a zone (Z or an offset), or null.
TIME_FIELDS = (
    "activityDateTime",
    "appliedDateTime",
    "createdDateTime",
    "endDateTime",
    "lastScannedDateTime",
    "reviewedDateTime",
    "startDateTime",
    "TimeGenerated",
)
# Top-level properties that hold another object's id (or a short code): a string, or null.
ID_FIELDS = (
    "appId",
    "appRoleId",
    "appScopeId",
    "directoryScopeId",
    "groupId",
    "policyId",
    "principalId",
    "resourceId",
    "roleAssignmentOriginId",
    "roleDefinitionId",
    "templateId",
    "UserId",
)
# Top-level properties that hold true or false, or null.
FLAG_FIELDS = (
    "accountEnabled",
    "isActive",
    "isAssignableToRole",
    "isBuiltIn",
    "isEnabled",
    "isPrivileged",
    "onPremisesSyncEnabled",
    "securityEnabled",
)

# An offset DuckDB accepts at the end of an ISO-8601 time: Z, +02, +0200 or +02:00.
ZONE_PATTERN = r"([zZ]|[+-]\d{2}(:?\d{2})?)$"


def strict_instant_sql(text: str) -> str:
    """SQL reading the string ``text`` as a timestamptz only if it names its zone; else null, never the host's."""
    return f"case when regexp_matches({text}, '{ZONE_PATTERN}') then try_cast({text} as timestamptz) end"


QUARANTINE_DDL = """create table if not exists meta.quarantine (
    tenant_id varchar not null,
    load_id varchar not null,
    collection varchar not null,
    record_id varchar,
    field varchar not null,
    reason varchar not null,
    value varchar,
    record json,
    quarantined_at timestamptz not null
)"""

# The rows of the load under check that break a rule, one per (record, field); a temp table for one landing.
REJECTED = "temp.main.landing_rejected"


def _field_rule_sql(table: str) -> str:
    fields = {
        **dict.fromkeys(TIME_FIELDS, "time"),
        **dict.fromkeys(ID_FIELDS, "id"),
        **dict.fromkeys(FLAG_FIELDS, "flag"),
    }
    schema = "{" + ", ".join(f'"{name}": "JSON"' for name in fields) + "}"
    checks = ", ".join(
        f"{{'field': '{name}', 'kind': '{kind}', 'value': fields.\"{name}\"}}" for name, kind in fields.items()
    )
    text = "json_extract_string(checked.value, '$')"
    return f"""with
        typed as (
            select rowid as row_number, id, json_transform(record, '{schema}') as fields
            from raw.{table} where tenant_id = $tenant and load_id = $load
        ),
        unpacked as (
            select row_number, id, unnest([{checks}]) as checked from typed
        ),
        present as (
            select row_number, id, checked, json_type(checked.value) as json_kind
            from unpacked where checked.value is not null and json_type(checked.value) <> 'NULL'
        ),
        judged as (
            select
                row_number,
                id,
                checked.field,
                cast(checked.value as varchar) as value,
                case
                    when checked.kind = 'time' and json_kind <> 'VARCHAR'
                        then 'a ' || lower(json_kind) || ' where a time belongs'
                    when checked.kind = 'time' and try_cast({text} as timestamptz) is null
                        then 'time does not parse'
                    when checked.kind = 'time' and not regexp_matches({text}, '{ZONE_PATTERN}')
                        then 'time has no zone'
                    when checked.kind = 'id' and json_kind <> 'VARCHAR'
                        then 'an ' || lower(json_kind) || ' where a scalar id belongs'
                    when checked.kind = 'flag' and json_kind <> 'BOOLEAN'
                        then 'a ' || lower(json_kind) || ' where true or false belongs'
                end as reason
            from present
        )
        select row_number, id, field, value, reason from judged where reason is not null"""


def _duplicates_sql(table: str) -> str:
    """Second and later copies of an (id, parent) within the load; the copy first written stays."""
    return f"""with repeated as (
            select id, parent_key from raw.{table}
            where tenant_id = $tenant and load_id = $load
            group by id, parent_key having count(*) > 1
        )
        select row_number, id, 'id' as field, id as value, 'id appears more than once in one snapshot' as reason
        from (
            select rows.rowid as row_number, rows.id,
                row_number() over (partition by rows.id, rows.parent_key order by rows.rowid) as copy
            from raw.{table} as rows
            semi join repeated on rows.id = repeated.id and rows.parent_key is not distinct from repeated.parent_key
            where rows.tenant_id = $tenant and rows.load_id = $load
        )
        where copy > 1"""


@dataclass(frozen=True)
class QuarantinedRecord:
    record_id: str
    field: str
    reason: str


def quarantine_load(
    con: duckdb.DuckDBPyConnection, table: str, tenant_id: str, load_id: str, *, snapshot: bool
) -> list[QuarantinedRecord]:
    """Moves the records of one just-inserted load that break a rule to ``meta.quarantine``; call it in the
    transaction that inserted them, before anything types them."""
    parameters = {"tenant": tenant_id, "load": load_id}
    queries = [_field_rule_sql(table)] + ([_duplicates_sql(table)] if snapshot else [])
    union = " union all ".join(f"select * from ({query})" for query in queries)
    con.execute(f"create or replace temp table {REJECTED} as {union}", parameters)
    rejected = con.execute(f"select id, field, reason from {REJECTED} order by id, field").fetchall()
    if rejected:
        con.execute(
            f"""insert into meta.quarantine
            select $tenant, $load, $collection, rejected.id, rejected.field, rejected.reason, rejected.value,
                rows.record, now()
            from {REJECTED} as rejected join raw.{table} as rows on rows.rowid = rejected.row_number""",
            {**parameters, "collection": table},
        )
        con.execute(f"delete from raw.{table} where rowid in (select row_number from {REJECTED})")
    con.execute(f"drop table {REJECTED}")
    return [QuarantinedRecord(*row) for row in rejected]


@dataclass(frozen=True)
class LoadQuarantine:
    """What the latest load of one tenant's collection set aside: record copies and dead letters, with examples."""

    tenant_id: str
    collection: str
    load_id: str
    quarantined: int
    dead_letters: int
    examples: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.quarantined + self.dead_letters


# Every record a load did not take, in one shape: those quarantined as they landed and the dead letters the
# extractor could not read as records (whose id is read from their text when it has one). The view meta.set_aside,
# which the run's checks and dbt (stg_meta__quarantined_records) both read.
SET_ASIDE_VIEW = """select 'quarantined' as quarantine_kind, tenant_id, load_id, collection, record_id, field, reason,
        value as offending_value, quarantined_at
    from meta.quarantine
    union all
    select 'dead_letter', tenant_id, load_id, collection, json_extract_string(try_cast(raw_text as json), '$.id'),
        case when error ilike '%id%' then 'id' else '(record)' end, error, substr(raw_text, 1, 200), loaded_at
    from raw.dead_letter"""

LATEST_LOADS_SQL = """with
    latest as (
        select tenant_id, collection, max(load_id) as load_id from meta.loads group by tenant_id, collection
    )
    select latest.tenant_id, latest.collection, latest.load_id,
        count(*) filter (where set_aside.quarantine_kind = 'quarantined'),
        count(*) filter (where set_aside.quarantine_kind = 'dead_letter'),
        list(coalesce(set_aside.record_id, '(no id)') || ' ' || set_aside.field || ': ' || set_aside.reason
            order by set_aside.record_id, set_aside.field)[1:3]
    from latest join meta.set_aside as set_aside on set_aside.load_id = latest.load_id
    group by all
    order by 1, 2"""


def latest_load_quarantine(con: duckdb.DuckDBPyConnection) -> list[LoadQuarantine]:
    """Each tenant's latest load of each collection that set anything aside (meta.quarantine, raw.dead_letter)."""
    return [
        LoadQuarantine(tenant, collection, load, quarantined, dead, tuple(examples))
        for tenant, collection, load, quarantined, dead, examples in con.execute(LATEST_LOADS_SQL).fetchall()
    ]


def describe(item: LoadQuarantine) -> str:
    """One line naming the tenant, collection, load, a few records with field and rule, and what to fix."""
    return (
        f"tenant {item.tenant_id}: {item.collection} load {item.load_id} set aside {item.quarantined} records and "
        f"{item.dead_letters} dead letters (e.g. {'; '.join(item.examples)}); fix them at the source, the next run "
        "lands them (marts.fct_quarantined_records lists each)"
    )
