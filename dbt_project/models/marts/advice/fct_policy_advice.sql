-- Advice from behaviour (docs/metrics.md): one row per assignment, eligibility or role per kind of advice, with the
-- numbers it rests on and its expected effect on a headline metric. Each kind advises from the mart that already
-- judges its question, never a second copy of the rule:
-- 1. convert_standing_to_eligible: a user's standing access row on a privileged role (fct_role_access), break-glass
--    accounts aside (int_break_glass_users);
-- 2. remove_stale_eligibility: a stale eligibility on a privileged role (fct_stale_eligibilities, the alert's rule);
-- 3. lower_max_activation: a role whose ended activations (fct_activation_endings) used at most the design's share
--    of the maximum activation its policy allows;
-- 4. add_approval / drop_approval: a tier-0 role without approval (fct_role_compliance), or approval on a role no
--    tier asks it of whose approvers approve nearly every request (fct_activation_requests).
with

access as (
    select * from {{ ref('fct_role_access') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

break_glass_users as (
    select * from {{ ref('int_break_glass_users') }}
),

stale_eligibilities as (
    select * from {{ ref('fct_stale_eligibilities') }}
),

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

activation_endings as (
    select * from {{ ref('fct_activation_endings') }}
),

compliance as (
    select * from {{ ref('fct_role_compliance') }}
    where role_system = 'entra' and compliance_rule = 'max_activation'
),

approval_compliance as (
    select * from {{ ref('fct_role_compliance') }}
    where role_system = 'entra' and compliance_rule = 'approval_required'
),

tier_requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    where role_system = 'entra'
),

over_privileged as (
    select * from {{ ref('fct_over_privileged_principals') }}
),

admin_tasks as (
    select * from {{ ref('int_admin_tasks_audited') }}
),

roles_audited_elsewhere as (
    select * from {{ ref('roles_audited_elsewhere') }}
),

thresholds as (
    select * from {{ ref('stg_design__advice') }}
),

alert_thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

evaluated_at as (
    select {{ as_of() }} as evaluated_at
),

-- 1. Standing access of users on privileged roles, break-glass accounts aside: converted to eligible, each takes one
-- from standing_privileged_access. Service principals cannot activate, and a group's standing row is a question of
-- its membership (PIM for Groups): neither is advised here.
standing_to_convert as (
    select
        access.tenant_id,
        'convert_standing_to_eligible' as advice_kind,
        1 as advice_priority,
        access.principal_id,
        access.principal_name,
        access.role_definition_id,
        access.directory_scope_id,
        access.access_id,
        access.access_state,
        access.start_at as held_since_at,
        'standing_privileged_access' as effect_metric_name,
        -1.0 as effect_value
    from access
    where
        access.is_privileged_role
        and access.is_standing
        and access.principal_type = 'user'
        and not {{ is_break_glass_user('access.tenant_id', 'access.principal_id') }}
),

-- 2. Stale eligibilities on privileged roles, with the holder's last activation of the role (null: none in the
-- history read): removed, each takes one from privileged_access_eligible.
last_activations as (
    select
        requests.tenant_id,
        requests.principal_id,
        requests.role_definition_id,
        max(requests.activated_at) as last_activated_at
    from requests
    cross join evaluated_at
    where requests.activated_at <= evaluated_at.evaluated_at
    group by requests.tenant_id, requests.principal_id, requests.role_definition_id
),

stale_to_remove as (
    select
        stale_eligibilities.tenant_id,
        'remove_stale_eligibility' as advice_kind,
        2 as advice_priority,
        stale_eligibilities.principal_id,
        access.principal_name,
        stale_eligibilities.role_definition_id,
        access.directory_scope_id,
        stale_eligibilities.access_id,
        access.access_state,
        stale_eligibilities.start_at as held_since_at,
        last_activations.last_activated_at,
        datediff('millisecond', last_activations.last_activated_at, stale_eligibilities.evaluated_at)
        // 86400000 as days_since_last_activation,
        'privileged_access_eligible' as effect_metric_name,
        -1.0 as effect_value
    from stale_eligibilities
    inner join access
        on
            stale_eligibilities.tenant_id = access.tenant_id
            and stale_eligibilities.access_id = access.access_id
    left join last_activations
        on
            stale_eligibilities.tenant_id = last_activations.tenant_id
            and stale_eligibilities.principal_id = last_activations.principal_id
            and stale_eligibilities.role_definition_id = last_activations.role_definition_id
    where access.is_privileged_role
),

-- 3. Durations used by the activations that ended (deactivated or run out), ranked per role: the design's
-- percentile is the nearest rank, the smallest duration at least that share of them are at or below.
durations_used as (
    select
        tenant_id,
        role_definition_id,
        used_seconds,
        row_number() over (partition by tenant_id, role_definition_id order by used_seconds) as duration_rank,
        count(*) over (partition by tenant_id, role_definition_id) as activations_considered
    from activation_endings
    -- A duration is known only with the granted start: without it the row would only pad the ranking.
    where ended_by != 'active' and used_seconds is not null
),

role_percentiles as (
    select
        durations_used.tenant_id,
        durations_used.role_definition_id,
        durations_used.activations_considered,
        durations_used.used_seconds as percentile_used_seconds,
        greatest(ceil(durations_used.used_seconds / 3600), 1) as advised_max_activation_hours
    from durations_used
    cross join thresholds
    where
        durations_used.activations_considered >= thresholds.min_activations
        and durations_used.duration_rank
        = greatest(ceil(thresholds.duration_percentile * durations_used.activations_considered), 1)
),

max_activation_to_lower as (
    select
        role_percentiles.tenant_id,
        'lower_max_activation' as advice_kind,
        3 as advice_priority,
        role_percentiles.role_definition_id,
        role_percentiles.activations_considered,
        role_percentiles.percentile_used_seconds,
        {{ iso8601_duration_seconds('roles.max_activation_duration') }} / 3600 as current_max_activation_hours,
        cast(role_percentiles.advised_max_activation_hours as bigint) as advised_max_activation_hours,
        'role_compliance_failures' as effect_metric_name,
        -- One failure less when the current maximum fails the tier's and the advised one would not.
        case
            when
                coalesce(compliance.is_failure, false)
                and role_percentiles.advised_max_activation_hours * 3600 <= cast(compliance.expected_value as bigint)
                then -1.0
            else 0.0
        end as effect_value
    from role_percentiles
    inner join roles
        on
            role_percentiles.tenant_id = roles.tenant_id
            and role_percentiles.role_definition_id = roles.role_definition_id
    cross join thresholds
    left join compliance
        on
            role_percentiles.tenant_id = compliance.tenant_id
            and role_percentiles.role_definition_id = compliance.role_definition_id
    where
        roles.has_pim_policy
        and role_percentiles.advised_max_activation_hours * 3600
        <= thresholds.max_activation_share * {{ iso8601_duration_seconds('roles.max_activation_duration') }}
),

-- 4. Approval: every tier-0 role whose policy does not require it (the compliance matrix's approval_required row
-- that tier0_roles_without_approval counts), to add; and a role no tier requirement asks it of (not privileged),
-- whose approvers decided at least the design's min_decisions requests and approved at least
-- drop_approval_min_rate of them, to drop. Dropping it takes its decisions out of approval_rate.
role_requests as (
    select
        tenant_id,
        role_definition_id,
        count(*) as activation_requests,
        count(*) filter (where approval_decision is not null) as approval_decisions,
        count(*) filter (where approval_decision = 'approved') as approved_decisions
    from requests
    group by tenant_id, role_definition_id
),

tenant_decisions as (
    select
        tenant_id,
        sum(approval_decisions) as approval_decisions,
        sum(approved_decisions) as approved_decisions
    from role_requests
    group by tenant_id
),

approval_to_add as (
    select
        tenant_id,
        'add_approval' as advice_kind,
        4 as advice_priority,
        role_definition_id,
        'tier0_roles_without_approval' as effect_metric_name,
        -1.0 as effect_value
    from approval_compliance
    where tier = 'tier0' and actual_value = 'false'
),

approval_to_drop as (
    select
        roles.tenant_id,
        'drop_approval' as advice_kind,
        4 as advice_priority,
        roles.role_definition_id,
        'approval_rate' as effect_metric_name,
        round(
            (tenant_decisions.approved_decisions - role_requests.approved_decisions)
            / nullif(tenant_decisions.approval_decisions - role_requests.approval_decisions, 0)
            - tenant_decisions.approved_decisions / tenant_decisions.approval_decisions,
            4
        ) as effect_value
    from roles
    inner join role_requests
        on
            roles.tenant_id = role_requests.tenant_id
            and roles.role_definition_id = role_requests.role_definition_id
    inner join tenant_decisions
        on roles.tenant_id = tenant_decisions.tenant_id
    left join tier_requirements
        on roles.tier = tier_requirements.tier
    cross join thresholds
    where
        roles.has_pim_policy
        and roles.is_approval_required
        and not roles.is_privileged
        and not coalesce(tier_requirements.is_approval_required, false)
        and role_requests.approval_decisions >= thresholds.min_decisions
        and role_requests.approved_decisions >= thresholds.drop_approval_min_rate * role_requests.approval_decisions
),

approval_advice as (
    select * from approval_to_add
    union all
    select * from approval_to_drop
),

approval_to_change as (
    select
        approval_advice.tenant_id,
        approval_advice.advice_kind,
        approval_advice.advice_priority,
        approval_advice.role_definition_id,
        coalesce(role_requests.activation_requests, 0) as activation_requests,
        coalesce(role_requests.approval_decisions, 0) as approval_decisions,
        coalesce(role_requests.approved_decisions, 0) as approved_decisions,
        approval_advice.effect_metric_name,
        approval_advice.effect_value
    from approval_advice
    left join role_requests
        on
            approval_advice.tenant_id = role_requests.tenant_id
            and approval_advice.role_definition_id = role_requests.role_definition_id
),

-- 5. A lesser role, for each tier-0 role held (any holder path) by a user fct_over_privileged_principals flags
-- tier0_only_lesser_tasks: the least role (seed audit_activity_least_privileged_role) allowing most of their audited
-- tasks in its window, and the share it allows. A role whose work its own workload audits (seed
-- roles_audited_elsewhere: Exchange, Intune, SharePoint, Teams) is unknown, never unused: no lesser role advised.
-- One less over_privileged_principals when that reason was the user's only one and the role their only tier-0 role.
lesser_task_users as (
    select
        tenant_id,
        principal_id,
        bool_and(reason = 'tier0_only_lesser_tasks') as is_only_reason
    from over_privileged
    group by tenant_id, principal_id
    having bool_or(reason = 'tier0_only_lesser_tasks')
),

tasks_by_least_role as (
    select
        admin_tasks.tenant_id,
        admin_tasks.user_id,
        admin_tasks.least_privileged_role_template_id,
        any_value(admin_tasks.least_privileged_role_name) as least_privileged_role_name,
        count(*) as covered_tasks
    from admin_tasks
    cross join evaluated_at
    cross join alert_thresholds
    where
        admin_tasks.activity_at > evaluated_at.evaluated_at - to_days(alert_thresholds.stale_eligibility_days)
        and admin_tasks.activity_at <= evaluated_at.evaluated_at
    group by admin_tasks.tenant_id, admin_tasks.user_id, admin_tasks.least_privileged_role_template_id
),

best_lesser_roles as (
    select
        tenant_id,
        user_id,
        least_privileged_role_template_id,
        least_privileged_role_name,
        covered_tasks,
        sum(covered_tasks) over (partition by tenant_id, user_id) as audited_tasks
    from tasks_by_least_role
    qualify row_number() over (
        partition by tenant_id, user_id order by covered_tasks desc, least_privileged_role_template_id asc
    ) = 1
),

tier0_holdings as (
    select distinct
        effective_privilege.tenant_id,
        effective_privilege.principal_id,
        effective_privilege.role_definition_id,
        roles.template_id
    from effective_privilege
    inner join roles
        on
            effective_privilege.tenant_id = roles.tenant_id
            and effective_privilege.role_definition_id = roles.role_definition_id
    where effective_privilege.is_holder and effective_privilege.tier = 'tier0'
),

tier0_role_counts as (
    select
        tenant_id,
        principal_id,
        count(*) as tier0_roles
    from tier0_holdings
    group by tenant_id, principal_id
),

over_privileged_names as (
    select distinct
        tenant_id,
        principal_id,
        principal_name
    from over_privileged
),

lesser_roles_judged as (
    select
        tier0_holdings.tenant_id,
        tier0_holdings.principal_id,
        tier0_holdings.role_definition_id,
        case
            when roles_audited_elsewhere.template_id is not null then 'unknown'
            when best_lesser_roles.covered_tasks = best_lesser_roles.audited_tasks then 'fits_one_role'
            else 'needs_several_roles'
        end as lesser_role_verdict,
        best_lesser_roles.least_privileged_role_template_id,
        best_lesser_roles.least_privileged_role_name,
        best_lesser_roles.covered_tasks,
        best_lesser_roles.audited_tasks,
        lesser_task_users.is_only_reason and tier0_role_counts.tier0_roles = 1 as is_last_reason
    from tier0_holdings
    inner join lesser_task_users
        on
            tier0_holdings.tenant_id = lesser_task_users.tenant_id
            and tier0_holdings.principal_id = lesser_task_users.principal_id
    inner join best_lesser_roles
        on
            tier0_holdings.tenant_id = best_lesser_roles.tenant_id
            and tier0_holdings.principal_id = best_lesser_roles.user_id
    inner join tier0_role_counts
        on
            tier0_holdings.tenant_id = tier0_role_counts.tenant_id
            and tier0_holdings.principal_id = tier0_role_counts.principal_id
    left join roles_audited_elsewhere
        on tier0_holdings.template_id = roles_audited_elsewhere.template_id
),

lesser_role_to_take as (
    select
        lesser_roles_judged.tenant_id,
        'lesser_role' as advice_kind,
        5 as advice_priority,
        lesser_roles_judged.principal_id,
        access_names.principal_name,
        lesser_roles_judged.role_definition_id,
        lesser_roles_judged.lesser_role_verdict,
        case
            when lesser_roles_judged.lesser_role_verdict != 'unknown'
                then lesser_roles_judged.least_privileged_role_template_id
        end as lesser_role_template_id,
        case
            when lesser_roles_judged.lesser_role_verdict != 'unknown'
                then lesser_roles_judged.least_privileged_role_name
        end as lesser_role_name,
        lesser_roles_judged.audited_tasks,
        case
            when lesser_roles_judged.lesser_role_verdict != 'unknown'
                then lesser_roles_judged.covered_tasks / lesser_roles_judged.audited_tasks
        end as covered_share,
        'over_privileged_principals' as effect_metric_name,
        case
            when lesser_roles_judged.is_last_reason and lesser_roles_judged.lesser_role_verdict != 'unknown'
                then -1.0
            else 0.0
        end as effect_value
    from lesser_roles_judged
    left join over_privileged_names as access_names
        on
            lesser_roles_judged.tenant_id = access_names.tenant_id
            and lesser_roles_judged.principal_id = access_names.principal_id
),

-- Each kind carries its own evidence columns; union by name leaves the others null.
unioned as (
    select * from standing_to_convert
    union all by name
    select * from stale_to_remove
    union all by name
    select * from max_activation_to_lower
    union all by name
    select * from approval_to_change
    union all by name
    select * from lesser_role_to_take
),

final as (
    select
        md5(concat_ws(
            '|', unioned.tenant_id, unioned.advice_kind, unioned.role_definition_id, unioned.access_id,
            unioned.principal_id
        )) as policy_advice_id,
        unioned.tenant_id,
        unioned.advice_kind,
        unioned.advice_priority,
        unioned.principal_id,
        unioned.principal_name,
        unioned.role_definition_id,
        roles.role_name,
        roles.tier,
        unioned.directory_scope_id,
        unioned.access_id,
        unioned.access_state,
        unioned.held_since_at,
        unioned.last_activated_at,
        unioned.days_since_last_activation,
        unioned.activations_considered,
        unioned.percentile_used_seconds,
        unioned.current_max_activation_hours,
        unioned.advised_max_activation_hours,
        unioned.activation_requests,
        unioned.approval_decisions,
        unioned.approved_decisions,
        unioned.lesser_role_verdict,
        unioned.lesser_role_template_id,
        unioned.lesser_role_name,
        unioned.audited_tasks,
        unioned.covered_share,
        unioned.effect_metric_name,
        unioned.effect_value,
        case unioned.advice_kind
            when 'convert_standing_to_eligible'
                then
                    'Make ' || coalesce(unioned.principal_name, unioned.principal_id) || '''s ' || unioned.access_state
                    || ' ' || roles.role_name || ' eligible, activated when needed'
            when 'remove_stale_eligibility'
                then
                    'Remove ' || coalesce(unioned.principal_name, unioned.principal_id) || '''s eligibility for '
                    || roles.role_name || ': not activated in ' || alert_thresholds.stale_eligibility_days || ' days'
            when 'lower_max_activation'
                then
                    'Lower ' || roles.role_name || '''s maximum activation from '
                    || round(unioned.current_max_activation_hours, 2) || ' h to '
                    || unioned.advised_max_activation_hours || ' h'
            when 'add_approval'
                then 'Require approval to activate ' || roles.role_name || ', a tier-0 role'
            when 'drop_approval'
                then 'Drop approval on ' || roles.role_name || ': its approvers approve nearly every request'
            when 'lesser_role'
                then
                    case unioned.lesser_role_verdict
                        when 'unknown'
                            then
                                'Unknown whether ' || coalesce(unioned.principal_name, unioned.principal_id)
                                || ' needs ' || roles.role_name || ': its work is audited outside Entra'
                        else
                            'Give ' || coalesce(unioned.principal_name, unioned.principal_id) || ' '
                            || unioned.lesser_role_name || ' instead of ' || roles.role_name
                    end
        end as advice,
        case unioned.advice_kind
            when 'convert_standing_to_eligible'
                then
                    unioned.access_state
                    || ' since '
                    || coalesce(strftime(unioned.held_since_at, '%Y-%m-%d'), 'unknown')
            when 'remove_stale_eligibility'
                then
                    'eligible since ' || strftime(unioned.held_since_at, '%Y-%m-%d') || ', last activated '
                    || coalesce(strftime(unioned.last_activated_at, '%Y-%m-%d'), 'never in the history read')
            when 'lower_max_activation'
                then
                    unioned.activations_considered || ' ended activations, '
                    || round(thresholds.duration_percentile * 100, 1) || 'th percentile used '
                    || round(unioned.percentile_used_seconds / 3600, 2) || ' h'
            when 'lesser_role'
                then
                    unioned.audited_tasks || ' audited tasks in ' || alert_thresholds.stale_eligibility_days
                    || ' days, all allowed by lesser roles; '
                    || coalesce(
                        unioned.lesser_role_name || ' allows ' || round(unioned.covered_share * 100, 1) || ' %',
                        'the role''s own work is not in the directory audit log'
                    )
            else
                unioned.activation_requests || ' activation requests, ' || unioned.approval_decisions
                || ' approval decisions, ' || unioned.approved_decisions || ' approved'
        end as evidence,
        unioned.effect_metric_name || ' ' || unioned.effect_value as expected_effect,
        evaluated_at.evaluated_at
    from unioned
    cross join evaluated_at
    cross join thresholds
    cross join alert_thresholds
    left join roles
        on
            unioned.tenant_id = roles.tenant_id
            and unioned.role_definition_id = roles.role_definition_id
)

select * from final
