-- Privileged access per tenant, snapshot day and department (fct_privileged_access_daily) keyed to the star's
-- dimensions, with the two days the rollout is measured between: the baseline day (the first snapshot on or
-- after the design's rollout baseline date; before any baseline date, the first snapshot) and the latest day.
with

daily as (
    select * from {{ ref('fct_privileged_access_daily') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

tenant_days as (
    select
        tenant_id,
        min(snapshot_date) filter (
            where snapshot_date >= coalesce(rollout_baseline_date, date '1970-01-01')
        ) as baseline_day,
        max(snapshot_date) as latest_day
    from daily
    group by tenant_id
),

final as (
    select
        daily.privileged_access_daily_id,
        tenants.tenant_key,
        {{ star_date_key('daily.snapshot_date') }} as date_key,
        daily.tenant_id,
        daily.department,
        daily.wave_name,
        daily.standing_access,
        daily.eligible_access,
        daily.activated_access,
        daily.privileged_principals,
        daily.eligible_only_principals,
        daily.snapshot_date = tenant_days.baseline_day as is_baseline_day,
        daily.snapshot_date = tenant_days.latest_day as is_latest_day
    from daily
    inner join tenants
        on daily.tenant_id = tenants.tenant_id
    inner join tenant_days
        on daily.tenant_id = tenant_days.tenant_id
)

select * from final
