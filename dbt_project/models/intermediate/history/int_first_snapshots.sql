-- Per tenant, the first day pimlens took a snapshot of role access (eligibility and assignment schedule instances,
-- role assignments) and the instant that day's state held: the last of that day's loads to commit, as the daily
-- models take each collection's last load of a day (macros/daily_snapshots.sql). History before it is rebuilt
-- from the audit log (fct_access_trend_daily). A load a raw gate holds is not a snapshot.
with

loads as (
    select * from {{ source('meta', 'loads') }}
),

held_loads as (
    select * from {{ ref('stg_meta__held_loads') }}
),

access_loads as (
    select
        tenant_id,
        committed_at,
        {{ snapshot_day('committed_at') }} as snapshot_date
    from loads
    where
        collection in ('role_eligibility_schedule_instances', 'role_assignment_schedule_instances', 'role_assignments')
        and load_id not in (select held_loads.load_id from held_loads)
),

first_days as (
    select
        tenant_id,
        min(snapshot_date) as first_snapshot_date
    from access_loads
    group by tenant_id
),

final as (
    select
        first_days.tenant_id,
        first_days.first_snapshot_date,
        max(access_loads.committed_at) as first_snapshot_at
    from first_days
    inner join access_loads
        on
            first_days.tenant_id = access_loads.tenant_id
            and first_days.first_snapshot_date = access_loads.snapshot_date
    group by all
)

select * from final
