-- One row: the alert thresholds of the design (defaults from pim-rules.md when the file sets none).
with

source as (
    select * from {{ source('design', 'alert_thresholds') }}
),

renamed as (
    select
        repeated_activation_window_seconds,
        repeated_activation_count,
        stale_eligibility_days,
        too_many_global_admins_count,
        too_many_global_admins_share,
        membership_burst_window_seconds,
        membership_burst_count,
        after_hours_baseline_seconds,
        after_hours_usual_count,
        stale_sign_in_days
    from source
)

select * from renamed
