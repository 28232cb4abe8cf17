-- Current user eligibilities held for at least the stale threshold with no activation inside it, break-glass
-- accounts aside. One rule, three readers: the stale_eligibility alert (fct_alerts), the eligible_never_activated
-- reason of fct_over_privileged_principals and the remove_stale_eligibility advice (fct_policy_advice).
with

access as (
    select * from {{ ref('fct_role_access') }}
),

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

break_glass_users as (
    select * from {{ ref('int_break_glass_users') }}
),

-- The evaluation instant (as_of): the run's start unless the configuration sets one, so a replay or a backfill
-- is judged at its own time.
evaluated_at as (
    select {{ as_of() }} as evaluated_at
),

final as (
    select
        access.access_id,
        access.tenant_id,
        access.principal_id,
        access.role_definition_id,
        access.role_name,
        access.start_at,
        evaluated_at.evaluated_at,
        thresholds.stale_eligibility_days
    from access
    cross join evaluated_at
    cross join thresholds
    where
        access.access_state = 'eligible'
        and access.principal_type = 'user'
        and access.start_at <= evaluated_at.evaluated_at - to_days(thresholds.stale_eligibility_days)
        and not {{ is_break_glass_user('access.tenant_id', 'access.principal_id') }}
        and not exists (
            -- every activation, not only the recent ones the event alerts look at
            select 1
            from requests
            where
                requests.tenant_id = access.tenant_id
                and requests.principal_id = access.principal_id
                and requests.role_definition_id = access.role_definition_id
                and requests.activated_at > evaluated_at.evaluated_at - to_days(thresholds.stale_eligibility_days)
                and requests.activated_at <= evaluated_at.evaluated_at
        )
)

select * from final
