{{
    config(
        materialized='incremental',
        unique_key='alert_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'keeps_history': true},
    )
}}
-- Alerts, each raised once: an alert keeps the id and the first_seen_at of the run that first raised it, and its
-- lifecycle (docs/alerts.md): a state alert is open while its condition holds and resolved when a run no longer
-- sees it; an event alert is open until acknowledged (`pimlens alerts ack`) or until it is older than the design's
-- alerts.event_alert_max_age. That history is not in raw, so an upgrade never drops this table to derive it again
-- (keeps_history, pipelines/lib/warehouse/model_upgrades.py); a change of its columns is a migration
-- (pipelines/lib/warehouse/history_migrations.py).
-- Rules, thresholds and severities are in docs/metrics.md and docs/alerts.md; thresholds come from the design file.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

access as (
    select * from {{ ref('fct_role_access') }}
),

role_tiers as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

policies as (
    select * from {{ ref('int_role_policies_pivoted') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

head_counts as (
    select * from {{ ref('fct_privileged_head_counts') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

audit_activities as (
    select * from {{ ref('pim_audit_activities') }}
),

stale_eligibilities as (
    select * from {{ ref('fct_stale_eligibilities') }}
),

business_hours as (
    select * from {{ ref('stg_design__business_hours') }}
),

user_time_zones as (
    select * from {{ ref('int_user_time_zones_resolved') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

break_glass_accounts as (
    select * from {{ ref('stg_design__break_glass_accounts') }}
),

lifecycle as (
    select * from {{ ref('stg_design__alert_lifecycle') }}
),

severities as (
    select * from {{ ref('stg_design__alert_severities') }}
),

suppressions as (
    select * from {{ ref('stg_design__alert_suppressions') }}
),

acknowledgements as (
    select * from {{ ref('stg_design__alert_acknowledgements') }}
),

break_glass_users as (
    select
        users.tenant_id,
        users.user_id
    from users
    inner join break_glass_accounts
        on lower(users.user_principal_name) = break_glass_accounts.user_principal_name
),

-- Event alerts are recomputed only from three days before the newest event alert already raised (full refresh:
-- all of them); older ones stay as raised. The activations read reach further back by twice the repeated-
-- activation window, so a run of activations that straddles the cut is still counted whole.
since as (
    {% if is_incremental() %}
        select coalesce(max(raised.event_at), timestamptz '1970-01-01 00:00:00+00') - interval 3 day as emit_after
        from {{ this }} as raised
    {% else %}
        select timestamptz '1970-01-01 00:00:00+00' as emit_after
    {% endif %}
),

-- Successful activations: the role became active. Read from far enough back for the repeated-activation window
-- and the after-hours baseline of the first activation recomputed.
activations as (
    select requests.*
    from requests
    cross join since
    cross join thresholds
    where
        requests.activated_at is not null
        and requests.activated_at > since.emit_after - greatest(
            2 * to_seconds(thresholds.repeated_activation_window_seconds),
            to_seconds(thresholds.after_hours_baseline_seconds)
        )
),

-- Each activation in the local time of its user: their mailbox's zone, else their country's, else the design's
-- default (int_user_time_zones_resolved); a principal no longer among the users gets the default.
activations_local as (
    select
        activations.*,
        coalesce(user_time_zones.time_zone, business_hours.default_time_zone) as time_zone,
        coalesce(user_time_zones.time_zone_source, 'default') as time_zone_source,
        timezone(coalesce(user_time_zones.time_zone, business_hours.default_time_zone), activations.activated_at)
            as local_at
    from activations
    cross join business_hours
    left join user_time_zones
        on
            activations.tenant_id = user_time_zones.tenant_id
            and activations.principal_id = user_time_zones.user_id
),

outside_business_hours as (
    select activations_local.*
    from activations_local
    cross join business_hours
    where
        not list_contains(business_hours.iso_weekdays, isodow(activations_local.local_at))
        or cast(activations_local.local_at as time) < business_hours.start_time
        or cast(activations_local.local_at as time) >= business_hours.end_time
),

-- A per-user baseline (pim-rules.md (b) 4): an activation after hours is usual for a person who made at least
-- after_hours.usual_count others after hours within the baseline before it (an on-call rota), and only an unusual
-- one is alerted. The usual_count-th earlier after-hours activation of the same person, any role, decides it.
after_hours_baselined as (
    select
        outside_business_hours.*,
        lag(outside_business_hours.activated_at, greatest(thresholds.after_hours_usual_count, 1)) over (
            partition by outside_business_hours.tenant_id, outside_business_hours.principal_id
            order by outside_business_hours.activated_at, outside_business_hours.request_id
        ) as usual_count_back_at
    from outside_business_hours
    cross join thresholds
),

after_hours as (
    select
        after_hours_baselined.tenant_id,
        'after_hours_activation' as alert_rule,
        -- Tier 0 after hours reaches on-call (medium); other tiers are recorded and reviewed by day (low).
        case when after_hour_tiers.tier = 'tier0' then 'medium' else 'low' end as severity,
        after_hours_baselined.principal_id,
        after_hours_baselined.role_definition_id,
        after_hours_baselined.request_id as subject_id,
        after_hours_baselined.activated_at as event_at,
        'activated at ' || strftime(after_hours_baselined.local_at, '%a %H:%M') || ' '
        || after_hours_baselined.time_zone
        || ' (zone from ' || after_hours_baselined.time_zone_source || ')'
        || ', outside ' || left(cast(business_hours.start_time as varchar), 5) || '-'
        || left(cast(business_hours.end_time as varchar), 5) as evidence
    from after_hours_baselined
    cross join business_hours
    cross join thresholds
    cross join since
    left join role_tiers as after_hour_tiers
        on
            after_hours_baselined.tenant_id = after_hour_tiers.tenant_id
            and after_hours_baselined.role_definition_id = after_hour_tiers.role_definition_id
    where
        after_hours_baselined.activated_at > since.emit_after
        and (
            thresholds.after_hours_usual_count = 0
            or after_hours_baselined.usual_count_back_at is null
            or after_hours_baselined.usual_count_back_at
            < after_hours_baselined.activated_at - to_seconds(thresholds.after_hours_baseline_seconds)
        )
),

window_lengths as (
    select
        to_seconds(thresholds.repeated_activation_window_seconds) as repeated_activation_window,
        thresholds.repeated_activation_count
    from thresholds
),

-- Among one principal's activations of one role, in time order: the count in the window up to an activation
-- reaches the threshold when the activation (threshold - 1) places earlier is inside the window. So each row takes
-- the times 1, threshold - 1 and threshold places earlier: three lags in one sort, not a count over a time frame
-- and a lag of that count, whose two sorts were most of this model's time at 10M requests. The same principal
-- cannot activate the same role twice at one instant (PIM refuses an overlapping request), so ordering by request
-- id only makes ties reproducible.
activation_windows as (
    select
        activations.tenant_id,
        activations.principal_id,
        activations.role_definition_id,
        activations.request_id,
        activations.activated_at,
        window_lengths.repeated_activation_window,
        lag(activations.activated_at) over by_activation as previous_at,
        lag(activations.activated_at, window_lengths.repeated_activation_count - 1) over by_activation
            as threshold_back_at,
        lag(activations.activated_at, window_lengths.repeated_activation_count) over by_activation
            as threshold_back_of_previous_at
    from activations
    cross join window_lengths
    window by_activation as (
        partition by activations.tenant_id, activations.principal_id, activations.role_definition_id
        order by activations.activated_at, activations.request_id
    )
),

-- Raised when the count in the window reaches the threshold, not again while it stays there.
repeated as (
    select
        activation_windows.tenant_id,
        'repeated_activation' as alert_rule,
        'medium' as severity,
        activation_windows.principal_id,
        activation_windows.role_definition_id,
        activation_windows.request_id as subject_id,
        activation_windows.activated_at as event_at,
        thresholds.repeated_activation_count || ' activations within '
        || thresholds.repeated_activation_window_seconds || ' s' as evidence
    from activation_windows
    cross join thresholds
    cross join since
    where
        activation_windows.activated_at > since.emit_after
        and activation_windows.threshold_back_at
        >= activation_windows.activated_at - activation_windows.repeated_activation_window
        and not coalesce(
            activation_windows.threshold_back_of_previous_at
            >= activation_windows.previous_at - activation_windows.repeated_activation_window,
            false
        )
),

outside_pim as (
    select
        tenant_id,
        'assignment_outside_pim' as alert_rule,
        'high' as severity,
        principal_id,
        role_definition_id,
        access_id as subject_id,
        cast(null as timestamptz) as event_at,
        'roleAssignment with no PIM schedule at scope ' || directory_scope_id as evidence
    from access
    where access_state = 'outside_pim'
),

-- The head-counts of fct_headline_metrics (fct_privileged_head_counts: groups expanded, owners not counted).
global_admin_roles as (
    select
        tenant_id,
        min(role_definition_id) as global_admin_role_id
    from roles
    where template_id = '62e90394-69f5-4237-9190-012177145e10'
    group by tenant_id
),

global_admin_counts as (
    select
        head_counts.tenant_id,
        coalesce(sum(head_counts.principals) filter (where head_counts.head_count = 'global_admins'), 0)
            as global_admins,
        any_value(global_admin_roles.global_admin_role_id) as global_admin_role_id,
        sum(head_counts.principals) filter (where head_counts.head_count = 'privileged_principals')
            as privileged_principals
    from head_counts
    left join global_admin_roles
        on head_counts.tenant_id = global_admin_roles.tenant_id
    where head_counts.path_kind = 'any'
    group by head_counts.tenant_id
),

too_many_global_admins as (
    select
        global_admin_counts.tenant_id,
        'too_many_global_admins' as alert_rule,
        'low' as severity,
        cast(null as varchar) as principal_id,
        global_admin_counts.global_admin_role_id as role_definition_id,
        'tenant' as subject_id,
        cast(null as timestamptz) as event_at,
        global_admin_counts.global_admins || ' Global Administrators, '
        || round(100.0 * global_admin_counts.global_admins / global_admin_counts.privileged_principals, 1)
        || ' % of privileged principals' as evidence
    from global_admin_counts
    cross join thresholds
    where
        global_admin_counts.global_admins > thresholds.too_many_global_admins_count
        and global_admin_counts.global_admins / nullif(global_admin_counts.privileged_principals, 0)
        > thresholds.too_many_global_admins_share
),

no_mfa as (
    select
        role_tiers.tenant_id,
        'no_mfa_on_activation' as alert_rule,
        'medium' as severity,
        cast(null as varchar) as principal_id,
        role_tiers.role_definition_id,
        role_tiers.role_definition_id as subject_id,
        cast(null as timestamptz) as event_at,
        role_tiers.tier || ' role activates without MFA or an authentication context' as evidence
    from role_tiers
    inner join policies
        on
            role_tiers.tenant_id = policies.tenant_id
            and role_tiers.role_definition_id = policies.role_definition_id
    where
        role_tiers.tier in ('tier0', 'tier1')
        and not policies.is_mfa_required_on_activation
),

stale as (
    select
        tenant_id,
        'stale_eligibility' as alert_rule,
        'low' as severity,
        principal_id,
        role_definition_id,
        access_id as subject_id,
        cast(null as timestamptz) as event_at,
        'eligible since ' || strftime(start_at, '%Y-%m-%d') || ', no activation in '
        || stale_eligibility_days || ' days before ' || strftime(evaluated_at, '%Y-%m-%d') as evidence
    from stale_eligibilities
),

-- PIM's alert scanner writes `Add member to role outside of PIM (permanent)` again about every two hours for the
-- same standing assignment, each row with its own request id: only the first row of a principal and role is the
-- addition, the rest are the scanner repeating it.
first_outside_pim_rows as (
    select
        audits.tenant_id,
        audits.audit_event_id
    from {{ ref('int_audit_events_unioned') }} as audits
    inner join audit_activities
        on audits.activity_display_name = audit_activities.activity_display_name
    where audit_activities.lifecycle_step = 'assigned_outside_pim'
    qualify row_number() over (
        partition by audits.tenant_id, audits.principal_id, audits.role_definition_id
        order by audits.activity_at, audits.audit_event_id
    ) = 1
),

break_glass_used as (
    select
        audits.tenant_id,
        'break_glass_used' as alert_rule,
        'high' as severity,
        audits.initiated_by_user_id as principal_id,
        audits.role_definition_id,
        audits.audit_event_id as subject_id,
        audits.activity_at as event_at,
        'break-glass account did: ' || audits.activity_display_name as evidence
    -- The audit log is read by its two rules straight, not through a shared CTE: DuckDB materializes a CTE read
    -- twice, which copied all 34M audit rows at 10M requests before either rule filtered them.
    from {{ ref('int_audit_events_unioned') }} as audits
    inner join break_glass_users
        on
            audits.tenant_id = break_glass_users.tenant_id
            and audits.initiated_by_user_id = break_glass_users.user_id
    cross join since
    where
        audits.activity_at > since.emit_after
        -- PIM's scanner repeating an assignment made outside PIM is not the account acting again.
        and (
            audits.activity_display_name not in (
                select audit_activities.activity_display_name
                from audit_activities
                where audit_activities.lifecycle_step = 'assigned_outside_pim'
            )
            or (audits.tenant_id, audits.audit_event_id) in (
                select
                    first_outside_pim_rows.tenant_id,
                    first_outside_pim_rows.audit_event_id
                from first_outside_pim_rows
            )
        )
),

-- Every privileged-role addition an admin made, in PIM or around it (pim-rules.md rule 13). Activations are not
-- additions: a person raising their own eligibility is the repeated-activation rule's business.
role_additions as (
    select audits.*
    from {{ ref('int_audit_events_unioned') }} as audits
    inner join audit_activities
        on audits.activity_display_name = audit_activities.activity_display_name
    cross join since
    cross join thresholds
    where
        audit_activities.lifecycle_step in ('assigned_outside_pim', 'assigned_by_admin', 'made_eligible_by_admin')
        and audits.result = 'success'
        and audits.initiated_by_user_id is not null
        and audits.activity_at > since.emit_after - 2 * to_seconds(thresholds.membership_burst_window_seconds)
        and (
            audit_activities.lifecycle_step != 'assigned_outside_pim'
            or (audits.tenant_id, audits.audit_event_id) in (
                select
                    first_outside_pim_rows.tenant_id,
                    first_outside_pim_rows.audit_event_id
                from first_outside_pim_rows
            )
        )
),

addition_windows as (
    select
        role_additions.tenant_id,
        role_additions.initiated_by_user_id,
        role_additions.audit_event_id,
        role_additions.activity_at,
        count(*) as additions_in_window
    from role_additions
    cross join thresholds
    inner join role_additions as earlier
        on
            role_additions.tenant_id = earlier.tenant_id
            and role_additions.initiated_by_user_id = earlier.initiated_by_user_id
            and role_additions.activity_at >= earlier.activity_at
            and earlier.activity_at
            >= role_additions.activity_at - to_seconds(thresholds.membership_burst_window_seconds)
    group by all
),

-- Raised when one admin's additions in the window first exceed the threshold, not again while they stay above.
membership_burst as (
    select
        addition_windows.tenant_id,
        'membership_burst' as alert_rule,
        'high' as severity,
        addition_windows.initiated_by_user_id as principal_id,
        cast(null as varchar) as role_definition_id,
        addition_windows.audit_event_id as subject_id,
        addition_windows.activity_at as event_at,
        addition_windows.additions_in_window || ' privileged-role additions by one admin within '
        || thresholds.membership_burst_window_seconds || ' s' as evidence
    from addition_windows
    cross join thresholds
    cross join since
    qualify
        addition_windows.activity_at > since.emit_after
        and addition_windows.additions_in_window > thresholds.membership_burst_count
        and coalesce(
            lag(addition_windows.additions_in_window) over (
                partition by addition_windows.tenant_id, addition_windows.initiated_by_user_id
                order by addition_windows.activity_at, addition_windows.audit_event_id
            ),
            0
        ) <= thresholds.membership_burst_count
),

unioned as (
    select * from after_hours
    union all
    select * from repeated
    union all
    select * from outside_pim
    union all
    select * from too_many_global_admins
    union all
    select * from no_mfa
    union all
    select * from stale
    union all
    select * from break_glass_used
    union all
    select * from membership_burst
),

-- What earlier runs recorded; on a full refresh, nothing.
previous as (
    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select
            cast(null as varchar) as alert_id,
            cast(null as varchar) as tenant_id,
            cast(null as varchar) as alert_rule,
            cast(null as varchar) as severity,
            cast(null as varchar) as principal_id,
            cast(null as varchar) as role_definition_id,
            cast(null as varchar) as subject_id,
            cast(null as varchar) as evidence,
            cast(null as timestamptz) as event_at,
            cast(null as timestamptz) as first_seen_at,
            cast(null as varchar) as alert_kind,
            cast(null as varchar) as status,
            cast(null as timestamptz) as opened_at,
            cast(null as timestamptz) as resolved_at,
            cast(null as varchar) as resolution,
            cast(null as varchar) as acknowledged_by_display_name,
            cast(null as boolean) as is_suppressed,
            cast(null as varchar) as suppression_reason,
            cast(null as timestamptz) as history_started_at
        where false
    {% endif %}
),

evaluation as (
    select {{ as_of() }} as evaluated_at
),

-- Event alerts carry the time of their event; state alerts have none.
keyed as (
    select
        md5(concat_ws('|', tenant_id, alert_rule, subject_id)) as alert_id,
        *,
        case when event_at is null then 'state' else 'event' end as alert_kind
    from unioned
),

-- The alerts this run raised, and the ones earlier runs left open that it did not raise again: a state alert
-- whose condition cleared, or an event alert older than this run's recompute window.
candidates as (
    select
        keyed.alert_id,
        keyed.tenant_id,
        keyed.alert_rule,
        keyed.severity,
        keyed.principal_id,
        keyed.role_definition_id,
        keyed.subject_id,
        keyed.evidence,
        keyed.event_at,
        keyed.alert_kind,
        true as holds_now,
        previous.first_seen_at as previous_first_seen_at,
        previous.opened_at as previous_opened_at,
        previous.status as previous_status
    from keyed
    left join previous
        on keyed.alert_id = previous.alert_id
    union all
    select
        previous.alert_id,
        previous.tenant_id,
        previous.alert_rule,
        previous.severity,
        previous.principal_id,
        previous.role_definition_id,
        previous.subject_id,
        previous.evidence,
        previous.event_at,
        previous.alert_kind,
        false as holds_now,
        previous.first_seen_at as previous_first_seen_at,
        previous.opened_at as previous_opened_at,
        previous.status as previous_status
    from previous
    where
        previous.status = 'open'
        and previous.alert_id not in (select keyed.alert_id from keyed)
),

-- One history per tenant: it started with the first build that raised its alerts (a rebuilt table starts another,
-- and the delivery sends one summary for it, not every old alert).
histories as (
    select
        tenant_id,
        min(history_started_at) as history_started_at
    from previous
    group by tenant_id
),

judged as (
    select
        candidates.*,
        coalesce(candidates.previous_first_seen_at, candidates.event_at, evaluation.evaluated_at) as first_seen_at,
        evaluation.evaluated_at,
        candidates.event_at + to_seconds(lifecycle.event_alert_max_age_seconds) as aged_at,
        acknowledgements.acknowledged_at,
        acknowledgements.acknowledged_by
    from candidates
    cross join evaluation
    cross join lifecycle
    left join acknowledgements
        on
            candidates.alert_id = acknowledgements.alert_id
            and candidates.alert_kind = 'event'
            and evaluation.evaluated_at >= acknowledgements.acknowledged_at
),

lifecycled as (
    select
        judged.*,
        case
            when judged.alert_kind = 'state' and judged.holds_now then 'open'
            when judged.alert_kind = 'state' then 'resolved'
            when judged.acknowledged_at is not null or judged.aged_at <= judged.evaluated_at then 'closed'
            else 'open'
        end as status,
        case
            when judged.alert_kind = 'event' then judged.first_seen_at
            when judged.previous_status = 'resolved' and judged.holds_now then judged.evaluated_at
            else coalesce(judged.previous_opened_at, judged.first_seen_at)
        end as opened_at,
        case
            when judged.alert_kind = 'state' and not judged.holds_now then 'condition_cleared'
            when judged.alert_kind = 'state' then null
            when judged.acknowledged_at < least(judged.aged_at, judged.evaluated_at) then 'acknowledged'
            when judged.aged_at <= judged.evaluated_at then 'aged'
            when judged.acknowledged_at is not null then 'acknowledged'
        end as resolution
    from judged
),

-- Suppressed alerts are kept, with the reason, and never delivered: by rule and principal (object id or UPN).
suppressed as (
    select
        lifecycled.alert_id,
        any_value(suppressions.reason) as suppression_reason
    from lifecycled
    left join users
        on
            lifecycled.tenant_id = users.tenant_id
            and lifecycled.principal_id = users.user_id
    inner join suppressions
        on
            lifecycled.alert_rule = suppressions.alert_rule
            and (
                suppressions.principal = lower(lifecycled.principal_id)
                or suppressions.principal = lower(users.user_principal_name)
            )
            and (suppressions.until_on is null or suppressions.until_on >= cast(lifecycled.evaluated_at as date))
    group by lifecycled.alert_id
),

final as (
    select
        lifecycled.alert_id,
        lifecycled.tenant_id,
        lifecycled.alert_rule,
        coalesce(severities.severity, lifecycled.severity) as severity,
        lifecycled.principal_id,
        lifecycled.role_definition_id,
        lifecycled.subject_id,
        lifecycled.evidence,
        lifecycled.event_at,
        lifecycled.first_seen_at,
        lifecycled.alert_kind,
        lifecycled.status,
        lifecycled.opened_at,
        case
            when lifecycled.resolution = 'condition_cleared' then lifecycled.evaluated_at
            when lifecycled.resolution = 'acknowledged' then lifecycled.acknowledged_at
            when lifecycled.resolution = 'aged' then lifecycled.aged_at
        end as resolved_at,
        lifecycled.resolution,
        case
            when lifecycled.resolution = 'acknowledged' then lifecycled.acknowledged_by
        end as acknowledged_by_display_name,
        suppressed.alert_id is not null as is_suppressed,
        suppressed.suppression_reason,
        coalesce(histories.history_started_at, lifecycled.evaluated_at) as history_started_at
    from lifecycled
    left join severities
        on lifecycled.alert_rule = severities.alert_rule
    left join suppressed
        on lifecycled.alert_id = suppressed.alert_id
    left join histories
        on lifecycled.tenant_id = histories.tenant_id
)

select * from final
