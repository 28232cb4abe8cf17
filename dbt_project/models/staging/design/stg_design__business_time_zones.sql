-- The time zone of each usage location (the country code on the user object).
with

source as (
    select * from {{ source('design', 'business_time_zones') }}
),

renamed as (
    select
        usage_location,
        time_zone
    from source
)

select * from renamed
