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

-- One grouping: a role counts as activated in a month at its first successful activation there, which
-- fct_activation_requests marks. Grouping by role first, then by principal, held 10M groups twice at 10M requests.
monthly as (
    select
        requests.tenant_id,
        requests.activation_month,
        requests.principal_id,
        count(*) as activation_requests,
        count(*) filter (where requests.outcome = 'activated') as activations,
        count(*) filter (where requests.is_first_activation_of_role_in_month) as roles_activated,
        count(*) filter (where requests.is_first_activation_of_role_in_month and requests.is_privileged_role)
            as privileged_roles_activated,
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
    group by requests.tenant_id, requests.activation_month, requests.principal_id
)

select
    *,
    {{ refreshed_at() }} as refreshed_at
from monthly
