-- The design's own severity per rule, over the one the rule gives (docs/alerts.md).
with

source as (
    select * from {{ source('design', 'alert_severities') }}
),

renamed as (
    select
        alert_rule,
        severity
    from source
)

select * from renamed
