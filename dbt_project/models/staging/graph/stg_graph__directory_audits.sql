-- PIM audit events, one row per event id. The fields the marts read were typed in the transaction that landed each
-- load (pipelines/lib/warehouse/typed_events.py), so this is a view: typing in dbt parsed the whole log again on
-- every full build, and at 34M events that parse and its copy were a third of the build (docs/benchmarks.md).
-- Landing already keeps one copy of each event across the look-back overlap of successive loads
-- (pipelines/lib/warehouse/landing.py; the fault tests check raw tables for duplicates), so this model does not
-- deduplicate again; the unique test below fails loudly if a copy ever slips through. The raw record keeps every
-- field.
with

-- A load the raw gate blocked stays out until a release (pipelines/lib/warehouse/verdicts.py).
held_loads as (
    select * from {{ ref('stg_meta__held_loads') }}
),

typed as (
    select * from {{ source('raw', 'directory_audits_typed') }}
    where load_id not in (select held_loads.load_id from held_loads)
),

renamed as (
    select
        tenant_id,
        id as audit_event_id,
        {{ typed_audit_columns() }},
        load_id
    from typed
)

select * from renamed
