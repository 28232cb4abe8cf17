{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'activation_month'],
        incremental_strategy='delete+insert',
    )
}}
-- Activation counts per tenant, month (of the request, UTC) and requesting principal, without the principal's
-- user attributes: those change, so fct_principal_activations_monthly joins them fresh on every build.
-- Incremental by month: a run rebuilds the months holding a request rewritten since this table was last built.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

{% if is_incremental() %}
    changed_months as (
        select distinct
            requests.tenant_id,
            requests.activation_month
        from requests
        where {{ refreshed_since_last_build('requests.refreshed_at') }}
    ),
{% endif %}

-- Per principal, month and role first: counting distinct roles straight from the requests takes a distinct
-- hash per group, which at 10M requests made this model the slowest of the build (docs/benchmarks.md).
per_role as (
    select
        requests.tenant_id,
        requests.activation_month,
        requests.principal_id,
        requests.role_definition_id,
        bool_or(requests.is_privileged_role) as is_privileged_role,
        count(*) as activation_requests,
        count(*) filter (where requests.outcome = 'activated') as activations,
        count(*) filter (where requests.outcome = 'denied') as denials,
        count(*) filter (where requests.outcome = 'canceled') as cancellations,
        count(*) filter (where requests.outcome = 'expired') as approval_timeouts,
        count(*) filter (where requests.outcome = 'failed') as failures,
        count(*) filter (where requests.decided_by_user_id = requests.principal_id) as self_approvals
    from requests
    {% if is_incremental() %}
        where (requests.tenant_id, requests.activation_month) in (
            select
                changed_months.tenant_id,
                changed_months.activation_month
            from changed_months
        )
    {% endif %}
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
)

select
    *,
    {{ refreshed_at() }} as refreshed_at
from monthly
