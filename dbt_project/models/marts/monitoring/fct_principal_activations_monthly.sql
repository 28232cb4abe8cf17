{{ config(materialized='view') }}
-- Activation monitoring per tenant, month (of the request, UTC) and requesting principal: who elevates, how often,
-- into how many roles, and how often it goes wrong. The per-role view is fct_activations_monthly. The counts come
-- from the incremental int_principal_activations_monthly; the user attributes are today's.
-- A view: as a table it copied every row of the counts each build only to add two user columns (10M rows and 20 s
-- of a 10M-request full build, a full rewrite in every daily run); a query pays one join on the users instead.
with

monthly as (
    select * from {{ ref('int_principal_activations_monthly') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
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
