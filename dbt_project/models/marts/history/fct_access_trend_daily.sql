-- The daily trend of privileged access per tenant, standing against eligible against activated, from the first
-- day the audit log covers (docs/metrics.md, "History before the first run"). Days with a snapshot are
-- fct_privileged_access_daily summed over departments. Days before the first snapshot are rebuilt by replaying the
-- audit log backwards from it: a day's state at its close (24:00 UTC) is the first snapshot's, less every change
-- logged after that close and no later than the snapshot (an access row added later was not held yet, one removed
-- later still was). Days before the log's first event are unknown and have no row; nothing is extrapolated.
with

access_daily as (
    select * from {{ ref('fct_privileged_access_daily') }}
),

first_snapshots as (
    select * from {{ ref('int_first_snapshots') }}
),

changes as (
    select * from {{ ref('int_access_changes_audited') }}
),

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

coverage as (
    select
        tenant_id,
        cast(timezone('UTC', min(activity_at)) as date) as history_covered_from
    from audits
    group by tenant_id
),

snapshot_days as (
    select
        tenant_id,
        snapshot_date,
        sum(standing_access) as standing_access,
        sum(eligible_access) as eligible_access,
        sum(activated_access) as activated_access
    from access_daily
    group by all
),

first_day_totals as (
    select
        first_snapshots.tenant_id,
        first_snapshots.first_snapshot_date,
        first_snapshots.first_snapshot_at,
        coalesce(snapshot_days.standing_access, 0) as standing_access,
        coalesce(snapshot_days.eligible_access, 0) as eligible_access,
        coalesce(snapshot_days.activated_access, 0) as activated_access
    from first_snapshots
    left join snapshot_days
        on
            first_snapshots.tenant_id = snapshot_days.tenant_id
            and first_snapshots.first_snapshot_date = snapshot_days.snapshot_date
),

-- Each change on a privileged role up to the first snapshot, with change_day: the last day whose close (24:00 UTC)
-- is at or after the change. The states of that day and later include it; replaying back, every earlier day undoes it.
-- Summed per day and kind first: the replay then walks days, not days times changes (at a million requests a year,
-- joining every rebuilt day with every later change took ten seconds of a build).
day_deltas as (
    select
        changes.tenant_id,
        cast(timezone('UTC', changes.activity_at - interval 1 microsecond) as date) as change_day,
        sum(changes.access_delta) filter (where changes.access_kind = 'standing') as standing_delta,
        sum(changes.access_delta) filter (where changes.access_kind = 'eligible') as eligible_delta,
        sum(changes.access_delta) filter (where changes.access_kind = 'activated') as activated_delta
    from changes
    inner join roles
        on
            changes.tenant_id = roles.tenant_id
            and changes.role_definition_id = roles.role_definition_id
    inner join first_snapshots
        on changes.tenant_id = first_snapshots.tenant_id
    where
        roles.is_privileged
        and changes.activity_at <= first_snapshots.first_snapshot_at
    group by all
),

-- Every day from the log's first to the first snapshot's: a change's day is at most the snapshot's, and a change
-- before the first covered day changes no rebuilt day.
replayed_days as (
    select
        first_day_totals.*,
        coverage.history_covered_from,
        cast(
            unnest(
                generate_series(
                    coverage.history_covered_from, first_day_totals.first_snapshot_date, interval 1 day
                )
            ) as date
        ) as snapshot_date
    from first_day_totals
    inner join coverage
        on first_day_totals.tenant_id = coverage.tenant_id
    where coverage.history_covered_from < first_day_totals.first_snapshot_date
),

-- A rebuilt day's state is the first snapshot's less every change of a later day.
replayed as (
    select
        replayed_days.tenant_id,
        replayed_days.snapshot_date,
        replayed_days.first_snapshot_date,
        replayed_days.standing_access - coalesce(sum(day_deltas.standing_delta) over later_days, 0) as standing_access,
        replayed_days.eligible_access - coalesce(sum(day_deltas.eligible_delta) over later_days, 0) as eligible_access,
        replayed_days.activated_access
        - coalesce(sum(day_deltas.activated_delta) over later_days, 0) as activated_access
    from replayed_days
    left join day_deltas
        on
            replayed_days.tenant_id = day_deltas.tenant_id
            and replayed_days.snapshot_date = day_deltas.change_day
    window later_days as (
        partition by replayed_days.tenant_id
        order by replayed_days.snapshot_date
        rows between 1 following and unbounded following
    )
),

reconstructed as (
    select
        tenant_id,
        snapshot_date,
        standing_access,
        eligible_access,
        activated_access,
        true as is_reconstructed
    from replayed
    where snapshot_date < first_snapshot_date
),

snapshotted as (
    select
        tenant_id,
        snapshot_date,
        standing_access,
        eligible_access,
        activated_access,
        false as is_reconstructed
    from snapshot_days
),

unioned as (
    select * from reconstructed
    union all
    select * from snapshotted
),

final as (
    select
        md5(concat_ws('|', unioned.tenant_id, unioned.snapshot_date)) as access_trend_daily_id,
        unioned.tenant_id,
        unioned.snapshot_date,
        unioned.standing_access,
        unioned.eligible_access,
        unioned.activated_access,
        unioned.is_reconstructed,
        coverage.history_covered_from,
        first_snapshots.first_snapshot_date
    from unioned
    left join coverage
        on unioned.tenant_id = coverage.tenant_id
    left join first_snapshots
        on unioned.tenant_id = first_snapshots.tenant_id
)

select * from final
