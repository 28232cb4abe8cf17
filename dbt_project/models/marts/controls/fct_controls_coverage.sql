-- Each governance control, where it applies and where it is missing (docs/metrics.md, "Controls coverage"):
-- enforced MFA by Conditional Access for every user holding a privileged role (directory or Azure) by an active
-- path, the checks of each break-glass account the design registers, the authentication context on activation of
-- each privileged role and the approvers of each role that needs approval (int_governance_controls_checked), and
-- for each user who decided a request, that they never approved their own. One row per control and subject.
with

policy_targets as (
    select * from {{ ref('stg_graph__conditional_access_policies') }}
),

-- Holders of privileged directory roles and Azure roles alike (role_system entra or azure).
effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
),

access as (
    select * from {{ ref('fct_role_access') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

memberships as (
    select * from {{ ref('stg_graph__group_transitive_members') }}
),

break_glass_accounts as (
    select * from {{ ref('stg_design__break_glass_accounts') }}
),

policy_controls as (
    select * from {{ ref('int_governance_controls_checked') }}
),

approver_load as (
    select * from {{ ref('fct_approver_load_monthly') }}
),

policies as (
    select distinct
        tenant_id,
        policy_id,
        policy_name,
        is_enabled,
        is_for_all_applications,
        requires_mfa
    from policy_targets
),

-- What Conditional Access matches a user on: the user, the groups they are in, the roles they hold now (a role's
-- eligible holders are targeted only once they activate).
user_keys as (
    select
        tenant_id,
        user_id,
        'user' as key_kind,
        user_id as key_id
    from users
    union all
    select
        tenant_id,
        member_id as user_id,
        'group' as key_kind,
        group_id as key_id
    from memberships
    union all
    select distinct
        tenant_id,
        principal_id as user_id,
        'role' as key_kind,
        role_definition_id as key_id
    from effective_privilege
    -- Conditional Access targets directory roles only (includeRoles): an Azure role is no key.
    where is_holder and principal_type = 'user' and privilege_state = 'active' and role_system = 'entra'
),

matches as (
    select
        user_keys.tenant_id,
        user_keys.user_id,
        policy_targets.policy_id,
        bool_or(starts_with(policy_targets.target_kind, 'include_')) as is_included,
        bool_or(starts_with(policy_targets.target_kind, 'exclude_')) as is_excluded
    from user_keys
    inner join policy_targets
        on
            user_keys.tenant_id = policy_targets.tenant_id
            and user_keys.key_kind = split_part(policy_targets.target_kind, '_', 2)
            and (
                user_keys.key_id = policy_targets.target_id
                or (policy_targets.target_kind = 'include_user' and policy_targets.target_id = 'All')
            )
    group by user_keys.tenant_id, user_keys.user_id, policy_targets.policy_id
),

-- The enabled policies that reach a user (included, not excluded).
targeting as (
    select
        matches.tenant_id,
        matches.user_id,
        policies.policy_name,
        policies.is_for_all_applications and policies.requires_mfa as is_mfa_for_sign_in
    from matches
    inner join policies
        on
            matches.tenant_id = policies.tenant_id
            and matches.policy_id = policies.policy_id
    where policies.is_enabled and matches.is_included and not matches.is_excluded
),

break_glass_users as (
    select
        break_glass_accounts.user_principal_name,
        users.tenant_id,
        users.user_id,
        users.is_account_enabled,
        users.is_synced_from_on_premises
    from break_glass_accounts
    left join users
        on break_glass_accounts.user_principal_name = lower(users.user_principal_name)
),

active_holders as (
    select distinct
        effective_privilege.tenant_id,
        effective_privilege.principal_id as user_id
    from effective_privilege
    left join break_glass_users
        on
            effective_privilege.tenant_id = break_glass_users.tenant_id
            and effective_privilege.principal_id = break_glass_users.user_id
    where
        effective_privilege.is_privileged_role and effective_privilege.is_holder
        and effective_privilege.principal_type = 'user' and effective_privilege.privilege_state = 'active'
        and break_glass_users.user_id is null
),

mfa_rows as (
    select
        active_holders.tenant_id,
        'conditional_access_mfa' as control,
        active_holders.user_id,
        null as registered_principal_name,
        coalesce(bool_or(targeting.is_mfa_for_sign_in), false) as is_met,
        string_agg(targeting.policy_name, ', ' order by targeting.policy_name) filter (
            where targeting.is_mfa_for_sign_in
        ) as evidence
    from active_holders
    left join targeting
        on
            active_holders.tenant_id = targeting.tenant_id
            and active_holders.user_id = targeting.user_id
    group by active_holders.tenant_id, active_holders.user_id
),

permanent_global_admins as (
    select distinct
        tenant_id,
        principal_id as user_id
    from access
    where
        role_definition_id = '62e90394-69f5-4237-9190-012177145e10' and directory_scope_id = '/'
        and access_state in ('active_permanent', 'outside_pim')
),

break_glass_checks as (
    select
        break_glass_users.*,
        permanent_global_admins.user_id is not null as is_permanent_global_admin,
        (
            select string_agg(targeting.policy_name, ', ' order by targeting.policy_name) from targeting
            where targeting.tenant_id = break_glass_users.tenant_id and targeting.user_id = break_glass_users.user_id
        ) as targeted_by
    from break_glass_users
    left join permanent_global_admins
        on
            break_glass_users.tenant_id = permanent_global_admins.tenant_id
            and break_glass_users.user_id = permanent_global_admins.user_id
),

tenants as (
    select distinct tenant_id from users
),

-- A registered account found in no tenant is missing from every tenant.
break_glass_subjects as (
    select
        tenants.tenant_id,
        checks.user_principal_name,
        checks.user_id,
        checks.is_account_enabled,
        checks.is_synced_from_on_premises,
        checks.is_permanent_global_admin,
        checks.targeted_by
    from tenants
    cross join break_glass_checks as checks
    where checks.tenant_id = tenants.tenant_id or checks.tenant_id is null
),

break_glass_rows as (
    select
        tenant_id,
        'break_glass_exists' as control,
        user_id,
        user_principal_name as registered_principal_name,
        user_id is not null as is_met,
        null as evidence
    from break_glass_subjects
    union all
    select
        tenant_id,
        'break_glass_enabled' as control,
        user_id,
        user_principal_name as registered_principal_name,
        coalesce(is_account_enabled, false) as is_met,
        null as evidence
    from break_glass_subjects
    union all
    select
        tenant_id,
        'break_glass_cloud_only' as control,
        user_id,
        user_principal_name as registered_principal_name,
        user_id is not null and not is_synced_from_on_premises
        and ends_with(user_principal_name, '.onmicrosoft.com') as is_met,
        null as evidence
    from break_glass_subjects
    union all
    select
        tenant_id,
        'break_glass_permanent_global_admin' as control,
        user_id,
        user_principal_name as registered_principal_name,
        is_permanent_global_admin as is_met,
        null as evidence
    from break_glass_subjects
    union all
    select
        tenant_id,
        'break_glass_excluded_from_conditional_access' as control,
        user_id,
        user_principal_name as registered_principal_name,
        user_id is not null and targeted_by is null as is_met,
        targeted_by as evidence
    from break_glass_subjects
),

-- Self-approval: an approver who approved a request they made themselves.
self_approval_rows as (
    select
        tenant_id,
        'approver_not_requester' as control,
        approver_id as user_id,
        sum(self_approved_requests) = 0 as is_met,
        case
            when sum(self_approved_requests) > 0
                then 'own requests approved: ' || cast(sum(self_approved_requests) as varchar)
        end as evidence
    from approver_load
    group by tenant_id, approver_id
),

-- By name: a control without a role, an approver group or a registered name has them null.
unioned as (
    select * from mfa_rows
    union all by name
    select * from break_glass_rows
    union all by name
    select * exclude (policy_control_id) from policy_controls
    union all by name
    select * from self_approval_rows
),

-- concat_ws skips nulls: the key of a control without a role or approver group is as it was before they existed.
final as (
    select
        md5(
            concat_ws(
                '|',
                tenant_id,
                control,
                coalesce(user_id, registered_principal_name),
                role_definition_id,
                approver_group_id
            )
        ) as control_coverage_id,
        tenant_id,
        control,
        user_id,
        role_definition_id,
        approver_group_id,
        registered_principal_name,
        is_met,
        evidence
    from unioned
)

select * from final
