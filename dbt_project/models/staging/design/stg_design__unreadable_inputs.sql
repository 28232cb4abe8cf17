-- One row: how much of a metric's input may be unreadable before the metric reads as unknown
-- (design unreadable_inputs).
with

source as (
    select * from {{ source('design', 'unreadable_inputs') }}
),

renamed as (
    select max_unreadable_share
    from source
)

select * from renamed
