-- One row: how long an open event alert waits for an acknowledgement before it is closed by age.
with

source as (
    select * from {{ source('design', 'alert_lifecycle') }}
),

renamed as (
    select event_alert_max_age_seconds
    from source
)

select * from renamed
