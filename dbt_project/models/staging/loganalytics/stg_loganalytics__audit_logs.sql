-- PIM audit events (and Access Reviews' record of PIM approvals) from the Log Analytics AuditLogs table, one row
-- per event id, in the columns of stg_graph__directory_audits: the workspace keeps them as long as its retention
-- says, Graph for 30 days. Typed in the transaction that landed each load, by the same rules as Graph's copy
-- (pipelines/lib/warehouse/typed_events.py).
-- Landing already keeps one copy of each event across the look-back overlap of successive loads
-- (pipelines/lib/warehouse/landing.py), so this model does not deduplicate again: a window over every event here
-- kept each filter of the marts that read it from reaching the scan, and at 1M requests made their builds ten
-- times slower (docs/benchmarks.md). The unique test below fails loudly if a copy ever slips through. A row whose
-- time does not parse as an instant with a zone cannot be placed in time and is left out.
with

-- A load the raw gate blocked stays out until a release (pipelines/lib/warehouse/verdicts.py).
held_loads as (
    select * from {{ ref('stg_meta__held_loads') }}
),

typed as (
    select * from {{ source('raw', 'la_audit_logs_typed') }}
    where load_id not in (select held_loads.load_id from held_loads)
),

renamed as (
    select
        tenant_id,
        id as audit_event_id,
        {{ typed_audit_columns() }},
        load_id
    from typed
    where activity_at is not null
)

select * from renamed
