-- The settings that matter for compliance, one row per role's PIM policy.
with

rules as (
    select * from {{ ref('stg_graph__role_management_policy_rules') }}
),

pivoted as (
    {{ pivot_policy_rules('rules') }}
)

select * from pivoted
