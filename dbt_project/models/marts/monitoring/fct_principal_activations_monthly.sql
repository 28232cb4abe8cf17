-- Activation monitoring per tenant, month (of the request, UTC) and requesting principal: who elevates, how often,
-- into how many roles, and how often it goes wrong. The per-role view is fct_activations_monthly.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

-- Per principal, month and role first: counting distinct roles straight from the requests takes a distinct
-- hash per group, which at 10M requests made this model the slowest of the build (docs/benchmarks.md).
per_role as (
    select
        tenant_id,
        cast(date_trunc('month', timezone('UTC', requested_at)) as date) as activation_month,
        principal_id,
        role_definition_id,
        bool_or(is_privileged_role) as is_privileged_role,
        count(*) as activation_requests,
        count(*) filter (where outcome = 'activated') as activations,
        count(*) filter (where outcome = 'denied') as denials,
        count(*) filter (where outcome = 'canceled') as cancellations,
        count(*) filter (where outcome = 'expired') as approval_timeouts,
        count(*) filter (where outcome = 'failed') as failures,
        count(*) filter (where decided_by_user_id = principal_id) as self_approvals
    from requests
    group by all
),

monthly as (
    select
        tenant_id,
        activation_month,
        principal_id,
        cast(sum(activation_requests) as bigint) as activation_requests,
        cast(sum(activations) as bigint) as activations,
        count(*) filter (where activations > 0) as roles_activated,
        count(*) filter (where activations > 0 and is_privileged_role) as privileged_roles_activated,
        cast(sum(denials) as bigint) as denials,
        cast(sum(cancellations) as bigint) as cancellations,
        cast(sum(approval_timeouts) as bigint) as approval_timeouts,
        cast(sum(failures) as bigint) as failures,
        cast(sum(self_approvals) as bigint) as self_approvals
    from per_role
    group by all
),

final as (
    select
        md5(concat_ws('|', monthly.tenant_id, monthly.activation_month, monthly.principal_id))
            as principal_activations_monthly_id,
        monthly.tenant_id,
        monthly.activation_month,
        monthly.principal_id,
        users.user_principal_name,
        users.department,
        monthly.activation_requests,
        monthly.activations,
        monthly.roles_activated,
        monthly.privileged_roles_activated,
        monthly.denials,
        monthly.cancellations,
        monthly.approval_timeouts,
        monthly.failures,
        monthly.self_approvals
    from monthly
    left join users
        on
            monthly.tenant_id = users.tenant_id
            and monthly.principal_id = users.user_id
)

select * from final
