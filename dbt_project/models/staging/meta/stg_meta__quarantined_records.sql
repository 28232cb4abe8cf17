-- Records set aside as they landed: one row per record copy and broken rule.
with

source as (
    select * from {{ source('meta', 'quarantine') }}
),

renamed as (
    select
        tenant_id,
        load_id,
        collection,
        record_id,
        field,
        reason,
        value,
        record,
        quarantined_at
    from source
)

select * from renamed
