{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'snapshot_date'],
        incremental_strategy='delete+insert',
    )
}}
-- Privileged access per tenant, snapshot day and department: how much is standing, how much eligible, and the
-- share of privileged principals who hold no standing access (moved to eligible). The rollout's progress chart.
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
        access_rows.access_state in ('active_permanent', 'active_time_bound', 'outside_pim') as is_standing,
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

principals as (
    select
        tenant_id,
        snapshot_date,
        department,
        principal_id,
        bool_or(is_standing) as has_standing_access
    from privileged
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
        count(*) as privileged_principals,
        count(*) filter (where not has_standing_access) as eligible_only_principals
    from principals
    group by all
),

final as (
    select
        md5(concat_ws('|', row_counts.tenant_id, row_counts.snapshot_date, row_counts.department))
            as privileged_access_daily_id,
        row_counts.tenant_id,
        row_counts.snapshot_date,
        row_counts.department,
        waves.wave_name,
        waves.starts_on as wave_starts_on,
        programme.baseline_date as rollout_baseline_date,
        row_counts.standing_access,
        row_counts.eligible_access,
        row_counts.activated_access,
        principal_counts.privileged_principals,
        principal_counts.eligible_only_principals,
        principal_counts.eligible_only_principals / nullif(principal_counts.privileged_principals, 0)
            as eligible_only_principal_share,
        {{ privileged_access_daily_fingerprint() }} as design_fingerprint,
        {{ loads_committed_through() }} as loads_committed_through
    from row_counts
    inner join principal_counts
        on
            row_counts.tenant_id = principal_counts.tenant_id
            and row_counts.snapshot_date = principal_counts.snapshot_date
            and row_counts.department = principal_counts.department
    left join waves
        on row_counts.department = waves.department
    cross join programme
)

select * from final
