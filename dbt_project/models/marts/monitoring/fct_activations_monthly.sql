{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'activation_month'],
        incremental_strategy='delete+insert',
    )
}}
-- Activation monitoring per tenant, month (of the request, UTC) and role: volume, outcomes, approval rates and
-- latency percentiles, self-approval, justification quality, and requested against granted duration.
-- Incremental by month: a run rebuilds the months holding a request or a justification score rewritten since
-- this table was last built (a daily run: the current month, and the last one for a few days).
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

justifications as (
    select * from {{ ref('fct_activation_justifications') }}
),

{% if is_incremental() %}
    changed_months as (
        select
            requests.tenant_id,
            requests.activation_month
        from requests
        where {{ refreshed_since_last_build('requests.refreshed_at') }}
        union
        select
            requests.tenant_id,
            requests.activation_month
        from justifications
        inner join requests
            on justifications.activation_request_id = requests.activation_request_id
        where {{ refreshed_since_last_build('justifications.refreshed_at') }}
    ),
{% endif %}

joined as (
    select
        requests.*,
        justifications.justification_score
    from requests
    left join justifications
        on requests.activation_request_id = justifications.activation_request_id
    {% if is_incremental() %}
        where (requests.tenant_id, requests.activation_month) in (
            select
                changed_months.tenant_id,
                changed_months.activation_month
            from changed_months
        )
    {% endif %}
),

monthly as (
    select
        tenant_id,
        activation_month,
        role_definition_id,
        any_value(role_name) as role_name,
        count(*) as activation_requests,
        count(distinct principal_id) as requestors,
        count(*) filter (where outcome = 'activated') as activations,
        count(*) filter (where outcome = 'denied') as denials,
        count(*) filter (where outcome = 'canceled') as cancellations,
        count(*) filter (where outcome = 'expired') as approval_timeouts,
        count(*) filter (where outcome = 'failed') as failures,
        count(*) filter (where approval_decision = 'approved') as approvals,
        count(*) filter (where approval_decision is not null) as decisions,
        count(*) filter (where decided_by_user_id = principal_id) as self_approvals,
        quantile_cont(approval_latency_ms, 0.5) filter (where approval_decision is not null) / 1000
            as approval_latency_p50_seconds,
        quantile_cont(approval_latency_ms, 0.9) filter (where approval_decision is not null) / 1000
            as approval_latency_p90_seconds,
        avg(justification_score) as mean_justification_score,
        count(*) filter (where is_granted_shorter_than_requested) as activations_granted_shorter,
        count(*) filter (where is_reactivation_after_expiry) as reactivations_after_expiry
    from joined
    group by tenant_id, activation_month, role_definition_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, activation_month, role_definition_id)) as activations_monthly_id,
        *,
        approvals / nullif(decisions, 0) as approval_rate,
        denials / nullif(decisions, 0) as denial_rate,
        activations_granted_shorter / nullif(activations, 0) as granted_shorter_share,
        {{ refreshed_at() }} as refreshed_at
    from monthly
)

select * from final
