-- Alerts of one rule about one principal that are recorded but not delivered, until a day (docs/alerts.md).
with

source as (
    select * from {{ source('design', 'alert_suppressions') }}
),

renamed as (
    select
        alert_rule,
        lower(principal) as principal,
        until_on,
        reason
    from source
)

select * from renamed
