-- The approver load (docs/metrics.md, "Controls coverage"): activation requests of directory roles each approver
-- decided, per calendar month of the decision (UTC), and how many of them were the approver's own. One row per
-- approver and month with at least one decision.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
    where decided_by_user_id is not null and decided_at is not null
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

monthly as (
    select
        tenant_id,
        decided_by_user_id as approver_id,
        cast(date_trunc('month', timezone('UTC', decided_at)) as date) as decision_month,
        count(*) as decided_requests,
        count(*) filter (where approval_decision = 'approved') as approved_requests,
        count(*) filter (where approval_decision = 'denied') as denied_requests,
        count(*) filter (where approval_decision = 'approved' and decided_by_user_id = principal_id)
            as self_approved_requests,
        count(distinct principal_id) as requester_count,
        count(distinct role_definition_id) as role_count
    from requests
    group by tenant_id, decided_by_user_id, decision_month
),

final as (
    select
        md5(concat_ws('|', monthly.tenant_id, monthly.approver_id, monthly.decision_month)) as approver_month_id,
        monthly.tenant_id,
        monthly.approver_id,
        users.user_principal_name as approver_principal_name,
        monthly.decision_month,
        monthly.decided_requests,
        monthly.approved_requests,
        monthly.denied_requests,
        monthly.self_approved_requests,
        monthly.requester_count,
        monthly.role_count
    from monthly
    left join users
        on
            monthly.tenant_id = users.tenant_id
            and monthly.approver_id = users.user_id
)

select * from final
