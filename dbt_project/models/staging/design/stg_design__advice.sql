-- One row: the thresholds of advice from behaviour (fct_policy_advice).
with

source as (
    select * from {{ source('design', 'advice') }}
),

renamed as (
    select
        min_activations,
        duration_percentile,
        max_activation_share,
        min_decisions,
        drop_approval_min_rate
    from source
)

select * from renamed
