{{
    config(
        materialized='incremental',
        unique_key='alert_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        meta={'keeps_history': true},
    )
}}
-- Alert events, each raised once: an alert keeps the id and the first_seen_at of the run that first raised it.
-- That first sighting is not in raw, so an upgrade never drops this table to derive it again (keeps_history,
-- pipelines/lib/warehouse/model_upgrades.py).
-- Rules, thresholds and severities are in docs/metrics.md; thresholds come from the design file.
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

-- Successful activations: the role became active.
activations as (
    select requests.*
    from requests
    cross join since
    cross join thresholds
    where
        requests.activated_at is not null
        and requests.activated_at
        > since.emit_after - 2 * to_seconds(thresholds.repeated_activation_window_seconds)
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

after_hours as (
    select
        activations_local.tenant_id,
        'after_hours_activation' as alert_rule,
        'medium' as severity,
        activations_local.principal_id,
        activations_local.role_definition_id,
        activations_local.request_id as subject_id,
        activations_local.activated_at as event_at,
        'activated at ' || strftime(activations_local.local_at, '%a %H:%M') || ' ' || activations_local.time_zone
        || ' (zone from ' || activations_local.time_zone_source || ')'
        || ', outside ' || left(cast(business_hours.start_time as varchar), 5) || '-'
        || left(cast(business_hours.end_time as varchar), 5) as evidence
    from activations_local
    cross join business_hours
    cross join since
    where
        activations_local.activated_at > since.emit_after
        and (
            not list_contains(business_hours.iso_weekdays, isodow(activations_local.local_at))
            or cast(activations_local.local_at as time) < business_hours.start_time
            or cast(activations_local.local_at as time) >= business_hours.end_time
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
    from {{ ref('stg_graph__directory_audits') }} as audits
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
    from {{ ref('stg_graph__directory_audits') }} as audits
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
    from {{ ref('stg_graph__directory_audits') }} as audits
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

-- Alerts raised by earlier runs keep their first_seen_at; on a full refresh there are none.
previous as (
    {% if is_incremental() %}
        select
            alert_id,
            first_seen_at
        from {{ this }}
    {% else %}
        select
            cast(null as varchar) as alert_id,
            cast(null as timestamptz) as first_seen_at
        where false
    {% endif %}
),

keyed as (
    select
        md5(concat_ws('|', tenant_id, alert_rule, subject_id)) as alert_id,
        *
    from unioned
),

final as (
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
        coalesce(previous.first_seen_at, keyed.event_at, {{ as_of() }}) as first_seen_at
    from keyed
    left join previous
        on keyed.alert_id = previous.alert_id
)

select * from final
