{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'snapshot_date'],
        incremental_strategy='delete+insert',
    )
}}
-- Privileged access per tenant, snapshot day and department: how much is standing, how much eligible, and the
-- share of privileged principals who hold no standing access (moved to eligible). The rollout's progress chart.
-- Access rows are counted as they are (a group's own rows under "(none)"); principals are the head-count of
-- docs/metrics.md: holders by any path of fct_effective_privilege_daily, groups expanded to their members, owners
-- never counted, users and service principals apart, split by path.
-- A principal counts under the department their user record had that day. Incremental by day
-- (macros/snapshot_days.sql): a daily run counts only the days on which a load committed since the last build;
-- a change of which roles are privileged, of the waves or of the baseline date recounts them all.
{%- set first_day = first_snapshot_day_to_build(privileged_access_daily_fingerprint()) %}
with

access_rows as (
    select * from {{ ref('int_access_rows_daily') }}
    where snapshot_date >= date '{{ first_day }}'
),

roles as (
    select * from {{ ref('dim_roles') }}
),

effective_privilege as (
    select * from {{ ref('fct_effective_privilege_daily') }}
    where snapshot_date >= date '{{ first_day }}'
),

users as (
    select * from {{ ref('stg_graph__user_snapshots') }}
    where snapshot_date >= date '{{ first_day }}'
),

waves as (
    select * from {{ ref('stg_design__rollout_waves') }}
),

programme as (
    select * from {{ ref('stg_design__programme') }}
),

privileged as (
    select
        access_rows.*,
        {{ standing_access_states('access_rows.access_state') }} as is_standing,
        coalesce(users.department, '(none)') as department
    from access_rows
    inner join roles
        on
            access_rows.tenant_id = roles.tenant_id
            and access_rows.role_definition_id = roles.role_definition_id
    left join users
        on
            access_rows.tenant_id = users.tenant_id
            and access_rows.snapshot_date = users.snapshot_date
            and access_rows.principal_id = users.user_id
    where roles.is_privileged
),

-- Every principal's paths on privileged roles that day, under their department that day.
privileged_paths as (
    select
        effective_privilege.*,
        coalesce(users.department, '(none)') as department
    from effective_privilege
    left join users
        on
            effective_privilege.tenant_id = users.tenant_id
            and effective_privilege.snapshot_date = users.snapshot_date
            and effective_privilege.principal_id = users.user_id
    where effective_privilege.is_privileged_role
),

principals as (
    select
        tenant_id,
        snapshot_date,
        department,
        principal_id,
        any_value(principal_type) as principal_type,
        bool_or(is_holder) as is_holder,
        bool_or(is_standing) as has_standing_access,
        bool_or(is_direct and privilege_state = 'active') as has_direct_active_path,
        bool_or(path_kind = 'direct_eligible') as has_direct_eligible_path,
        bool_or(path_kind = 'group_member') as has_group_member_path,
        bool_or(path_kind = 'pim_group_member_eligible') as has_pim_group_eligible_path,
        bool_or(path_kind = 'pim_group_member_active') as has_pim_group_active_path,
        bool_or(not is_holder) as is_group_owner
    from privileged_paths
    group by all
),

row_counts as (
    select
        tenant_id,
        snapshot_date,
        department,
        count(*) filter (where is_standing) as standing_access,
        count(*) filter (where access_state = 'eligible') as eligible_access,
        count(*) filter (where access_state = 'activated') as activated_access
    from privileged
    group by all
),

principal_counts as (
    select
        tenant_id,
        snapshot_date,
        department,
        count(*) filter (where is_holder) as privileged_principals,
        count(*) filter (where is_holder and principal_type = 'user') as privileged_users,
        count(*) filter (where is_holder and principal_type = 'service_principal') as privileged_service_principals,
        count(*) filter (where is_holder and not has_standing_access) as eligible_only_principals,
        count(*) filter (where has_direct_active_path) as principals_direct_active,
        count(*) filter (where has_direct_eligible_path) as principals_direct_eligible,
        count(*) filter (where has_group_member_path) as principals_group_member,
        count(*) filter (where has_pim_group_eligible_path) as principals_pim_group_member_eligible,
        count(*) filter (where has_pim_group_active_path) as principals_pim_group_member_active,
        count(*) filter (where is_group_owner) as group_owners
    from principals
    group by all
),

day_departments as (
    select
        tenant_id,
        snapshot_date,
        department
    from row_counts
    union
    select
        tenant_id,
        snapshot_date,
        department
    from principal_counts
),

final as (
    select
        md5(concat_ws('|', day_departments.tenant_id, day_departments.snapshot_date, day_departments.department))
            as privileged_access_daily_id,
        day_departments.tenant_id,
        day_departments.snapshot_date,
        day_departments.department,
        waves.wave_name,
        waves.starts_on as wave_starts_on,
        programme.baseline_date as rollout_baseline_date,
        coalesce(row_counts.standing_access, 0) as standing_access,
        coalesce(row_counts.eligible_access, 0) as eligible_access,
        coalesce(row_counts.activated_access, 0) as activated_access,
        coalesce(principal_counts.privileged_principals, 0) as privileged_principals,
        coalesce(principal_counts.privileged_users, 0) as privileged_users,
        coalesce(principal_counts.privileged_service_principals, 0) as privileged_service_principals,
        coalesce(principal_counts.eligible_only_principals, 0) as eligible_only_principals,
        principal_counts.eligible_only_principals / nullif(principal_counts.privileged_principals, 0)
            as eligible_only_principal_share,
        coalesce(principal_counts.principals_direct_active, 0) as principals_direct_active,
        coalesce(principal_counts.principals_direct_eligible, 0) as principals_direct_eligible,
        coalesce(principal_counts.principals_group_member, 0) as principals_group_member,
        coalesce(principal_counts.principals_pim_group_member_eligible, 0) as principals_pim_group_member_eligible,
        coalesce(principal_counts.principals_pim_group_member_active, 0) as principals_pim_group_member_active,
        coalesce(principal_counts.group_owners, 0) as group_owners,
        {{ privileged_access_daily_fingerprint() }} as design_fingerprint,
        {{ loads_committed_through() }} as loads_committed_through
    from day_departments
    left join row_counts
        on
            day_departments.tenant_id = row_counts.tenant_id
            and day_departments.snapshot_date = row_counts.snapshot_date
            and day_departments.department = row_counts.department
    left join principal_counts
        on
            day_departments.tenant_id = principal_counts.tenant_id
            and day_departments.snapshot_date = principal_counts.snapshot_date
            and day_departments.department = principal_counts.department
    left join waves
        on day_departments.department = waves.department
    cross join programme
)

select * from final
