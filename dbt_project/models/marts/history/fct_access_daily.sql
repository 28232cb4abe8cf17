-- Standing versus eligible access per day, from the snapshot history: the trend stakeholders ask for.
-- A day counts an access version that was valid at the end of that day (UTC).
with

history as (
    select * from {{ ref('int_access_history_versioned') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

tenant_days as (
    select
        tenant_id,
        unnest(generate_series(min(valid_from)::date, current_date, interval 1 day))::date as snapshot_date
    from history
    group by tenant_id
),

valid_on_day as (
    select
        tenant_days.tenant_id,
        tenant_days.snapshot_date,
        history.access_state,
        coalesce(roles.is_privileged, false) as is_privileged_role,
        history.principal_id
    from tenant_days
    inner join history
        on
            tenant_days.tenant_id = history.tenant_id
            and history.valid_from < tenant_days.snapshot_date + interval 1 day
            and (history.valid_to is null or history.valid_to >= tenant_days.snapshot_date + interval 1 day)
    left join roles
        on history.tenant_id = roles.tenant_id and history.role_definition_id = roles.role_definition_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, snapshot_date, access_state, is_privileged_role)) as access_day_id,
        tenant_id,
        snapshot_date,
        access_state,
        is_privileged_role,
        access_state in ('active_permanent', 'active_time_bound') as is_standing,
        count(*) as access_count,
        count(distinct principal_id) as principal_count
    from valid_on_day
    group by tenant_id, snapshot_date, access_state, is_privileged_role
)

select * from final
