-- Principals holding more privilege than they use, one row per principal and reason (docs/metrics.md):
-- several tier-0 roles; a stale eligibility on a privileged role (the stale_eligibility alert's rule); or a
-- tier-0 role while every admin task they were audited doing in the window is allowed by a lower-tier role.
-- Holdings are a user's or service principal's holder paths (fct_effective_privilege): a role held through a
-- role-assignable group is held; owning the group is not.
with

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    -- Directory roles: Azure access has marts and metrics of its own (docs/metrics.md, "Azure").
    where role_system = 'entra'
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

role_tiers as (
    select * from {{ ref('dim_role_classification') }}
),

stale_eligibilities as (
    select * from {{ ref('fct_stale_eligibilities') }}
),

audited_tasks as (
    select * from {{ ref('int_admin_tasks_audited') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

holdings as (
    select * from effective_privilege
    where is_holder
),

names as (
    select
        tenant_id,
        user_id as principal_id,
        display_name
    from users
    union all
    select
        tenant_id,
        service_principal_id as principal_id,
        display_name
    from service_principals
),

principals as (
    select
        holdings.tenant_id,
        holdings.principal_id,
        any_value(holdings.principal_type) as principal_type,
        any_value(names.display_name) as principal_name
    from holdings
    left join names
        on
            holdings.tenant_id = names.tenant_id
            and holdings.principal_id = names.principal_id
    group by holdings.tenant_id, holdings.principal_id
),

-- Every tier-0 role a principal holds, in any state (eligible, active, activated, outside PIM), by any path.
tier0_holdings as (
    select
        tenant_id,
        principal_id,
        count(distinct role_definition_id) as tier0_roles,
        string_agg(distinct role_name, ', ' order by role_name) as tier0_role_names
    from holdings
    where tier = 'tier0'
    group by tenant_id, principal_id
),

several_tier0_roles as (
    select
        tenant_id,
        principal_id,
        'several_tier0_roles' as reason,
        tier0_roles || ' tier-0 roles: ' || tier0_role_names as evidence
    from tier0_holdings
    where tier0_roles >= 2
),

eligible_never_activated as (
    select
        stale_eligibilities.tenant_id,
        stale_eligibilities.principal_id,
        'eligible_never_activated' as reason,
        'no activation in the ' || any_value(stale_eligibilities.stale_eligibility_days) || ' days before '
        || strftime(any_value(stale_eligibilities.evaluated_at), '%Y-%m-%d') || ' of: '
        || string_agg(distinct stale_eligibilities.role_name, ', ' order by stale_eligibilities.role_name)
            as evidence
    from stale_eligibilities
    inner join role_tiers
        on
            stale_eligibilities.tenant_id = role_tiers.tenant_id
            and stale_eligibilities.role_definition_id = role_tiers.role_definition_id
    where role_tiers.tier in ('tier0', 'tier1')
    group by stale_eligibilities.tenant_id, stale_eligibilities.principal_id
),

-- The window of audited tasks ends at the evaluation instant (as_of), like the stale eligibility rule's.
evaluated_at as (
    select {{ as_of() }} as evaluated_at
),

-- Each task in the window with the least-privileged role that allows it and that role's tier here. A task the
-- seed does not map, or whose role the tenant does not have, gets no tier: it can never count as lesser.
tasks_in_window as (
    select
        audited_tasks.tenant_id,
        audited_tasks.user_id,
        audited_tasks.activity_display_name,
        audited_tasks.least_privileged_role_name,
        least_role_tiers.tier as least_role_tier
    from audited_tasks
    cross join evaluated_at
    cross join thresholds
    left join role_tiers as least_role_tiers
        on
            audited_tasks.tenant_id = least_role_tiers.tenant_id
            and audited_tasks.least_privileged_role_template_id = least_role_tiers.template_id
    where
        audited_tasks.activity_at > evaluated_at.evaluated_at - to_days(thresholds.stale_eligibility_days)
        and audited_tasks.activity_at <= evaluated_at.evaluated_at
),

task_summaries as (
    select
        tasks_in_window.tenant_id,
        tasks_in_window.user_id,
        count(*) as audited_tasks,
        bool_and(coalesce(tasks_in_window.least_role_tier in ('tier1', 'tier2'), false)) as has_only_lesser_tasks,
        string_agg(
            distinct tasks_in_window.activity_display_name || ' (' || tasks_in_window.least_privileged_role_name
            || ', ' || tasks_in_window.least_role_tier || ')',
            '; '
            order by
                tasks_in_window.activity_display_name || ' (' || tasks_in_window.least_privileged_role_name
                || ', ' || tasks_in_window.least_role_tier || ')'
        ) as task_evidence
    from tasks_in_window
    group by tasks_in_window.tenant_id, tasks_in_window.user_id
),

tier0_only_lesser_tasks as (
    select
        tier0_holdings.tenant_id,
        tier0_holdings.principal_id,
        'tier0_only_lesser_tasks' as reason,
        task_summaries.audited_tasks || ' audited tasks in the ' || thresholds.stale_eligibility_days
        || ' days, each allowed by a lesser role: ' || task_summaries.task_evidence as evidence
    from tier0_holdings
    inner join principals
        on
            tier0_holdings.tenant_id = principals.tenant_id
            and tier0_holdings.principal_id = principals.principal_id
    inner join task_summaries
        on
            tier0_holdings.tenant_id = task_summaries.tenant_id
            and tier0_holdings.principal_id = task_summaries.user_id
    cross join thresholds
    where
        principals.principal_type = 'user'
        and task_summaries.has_only_lesser_tasks
),

unioned as (
    select * from several_tier0_roles
    union all
    select * from eligible_never_activated
    union all
    select * from tier0_only_lesser_tasks
),

final as (
    select
        md5(concat_ws('|', unioned.tenant_id, unioned.principal_id, unioned.reason)) as over_privileged_principal_id,
        unioned.tenant_id,
        unioned.principal_id,
        principals.principal_type,
        principals.principal_name,
        unioned.reason,
        coalesce(tier0_holdings.tier0_roles, 0) as tier0_roles,
        unioned.evidence
    from unioned
    inner join principals
        on
            unioned.tenant_id = principals.tenant_id
            and unioned.principal_id = principals.principal_id
    left join tier0_holdings
        on
            unioned.tenant_id = tier0_holdings.tenant_id
            and unioned.principal_id = tier0_holdings.principal_id
)

select * from final
