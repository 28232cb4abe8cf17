-- One row: how many records one load may set aside, and how old a collection's latest readable load may be.
with

source as (
    select * from {{ source('design', 'data_quality') }}
),

renamed as (
    select
        max_quarantined_records,
        max_collection_age_seconds
    from source
)

select * from renamed
