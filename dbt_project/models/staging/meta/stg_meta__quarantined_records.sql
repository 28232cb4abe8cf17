-- Every record a load did not take, one row per record copy and broken rule: those set aside as they landed and the
-- dead letters the extractor could not read as records. The view meta.set_aside (pipelines/lib/warehouse/
-- quarantine.py) puts both in one shape, and reads a dead letter's id, for the run's checks and for dbt alike.
with

source as (
    select * from {{ source('meta', 'set_aside') }}
),

renamed as (
    select
        quarantine_kind,
        tenant_id,
        load_id,
        collection,
        record_id,
        field,
        reason,
        offending_value,
        quarantined_at
    from source
)

select * from renamed
