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
privileged_changes as (
    select
        changes.tenant_id,
        changes.access_kind,
        changes.access_delta,
        cast(timezone('UTC', changes.activity_at - interval 1 microsecond) as date) as change_day
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
),

reconstructed_days as (
    select
        first_day_totals.*,
        coverage.history_covered_from,
        cast(
            unnest(
                generate_series(
                    coverage.history_covered_from, first_day_totals.first_snapshot_date - 1, interval 1 day
                )
            ) as date
        ) as snapshot_date
    from first_day_totals
    inner join coverage
        on first_day_totals.tenant_id = coverage.tenant_id
    where coverage.history_covered_from < first_day_totals.first_snapshot_date
),

reconstructed as (
    select
        reconstructed_days.tenant_id,
        reconstructed_days.snapshot_date,
        any_value(reconstructed_days.standing_access)
        - coalesce(sum(privileged_changes.access_delta) filter (where privileged_changes.access_kind = 'standing'), 0)
            as standing_access,
        any_value(reconstructed_days.eligible_access)
        - coalesce(sum(privileged_changes.access_delta) filter (where privileged_changes.access_kind = 'eligible'), 0)
            as eligible_access,
        any_value(reconstructed_days.activated_access)
        - coalesce(sum(privileged_changes.access_delta) filter (where privileged_changes.access_kind = 'activated'), 0)
            as activated_access,
        true as is_reconstructed
    from reconstructed_days
    left join privileged_changes
        on
            reconstructed_days.tenant_id = privileged_changes.tenant_id
            and reconstructed_days.snapshot_date < privileged_changes.change_day
    group by reconstructed_days.tenant_id, reconstructed_days.snapshot_date
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
