-- One row: how far ahead access counts as expiring (fct_expiring_access), in days.
with

source as (
    select * from {{ source('design', 'expiring_access') }}
),

renamed as (
    select horizon_days
    from source
)

select * from renamed
