-- One row: how much of a metric's input may be unreadable before the metric reads as unknown (design data_quality).
with

source as (
    select * from {{ source('design', 'data_quality') }}
),

renamed as (
    select max_unreadable_share
    from source
)

select * from renamed
