-- The latest acknowledgement of each alert, as the on-call team gave it with `pimlens alerts ack`.
with

source as (
    select * from {{ source('design', 'alert_acknowledgements') }}
),

latest as (
    select
        alert_id,
        acknowledged_at,
        acknowledged_by,
        note
    from source
    qualify row_number() over (partition by alert_id order by acknowledged_at desc) = 1
)

select * from latest
