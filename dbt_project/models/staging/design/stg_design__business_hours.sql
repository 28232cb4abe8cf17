-- One row: the working day, and the time zone of users whose usage location the design does not map.
with

source as (
    select * from {{ source('design', 'business_hours') }}
),

renamed as (
    select
        start_time,
        end_time,
        iso_weekdays,
        default_time_zone
    from source
)

select * from renamed
