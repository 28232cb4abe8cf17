-- PIM audit events from the Log Analytics AuditLogs table, one row per event id, in the columns of
-- stg_graph__directory_audits: the workspace keeps them as long as its retention says, Graph for 30 days. Typed in
-- the transaction that landed each load, by the same rules as Graph's copy (pipelines/lib/warehouse/typed_events.py).
-- The look-back window of successive loads can land an event twice: the first load's copy is kept. A row whose
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

deduplicated as (
    select *
    from typed
    where activity_at is not null
    qualify row_number() over (partition by tenant_id, id order by load_id) = 1
),

renamed as (
    select
        tenant_id,
        id as audit_event_id,
        {{ typed_audit_columns() }},
        load_id
    from deduplicated
)

select * from renamed
