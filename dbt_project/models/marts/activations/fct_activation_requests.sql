{{
    config(
        materialized='incremental',
        unique_key='activation_request_id',
        incremental_strategy='delete+insert',
    )
}}
-- depends_on: {{ ref('int_audit_events_unioned') }}
-- depends_on: {{ ref('pim_audit_activities') }}
-- Incremental: a run refolds only the requests with an audit event in the last 7 days before the newest request
-- already built (a request's lifecycle ends within about three days: approval window plus longest activation),
-- so a daily run with 1 % new events neither refolds nor re-sorts the whole year. A change of the rules requests are
-- judged by (macros/refreshed_rows.sql) refolds them all.
with

{% if is_incremental() %}
    touched as (
        select distinct
            audits.tenant_id,
            audits.request_id
        from {{ ref('int_audit_events_unioned') }} as audits
        where
            audits.activity_at > (select max(built.requested_at) - interval 7 day from {{ this }} as built)
            -- Rules changed (design, tiers, roles): every request is judged again.
            or (select any_value(built.activation_rules_fingerprint) from {{ this }} as built)
            != {{ activation_rules_fingerprint() }}
    ),

    touched_audits as (
        select audits.*
        from {{ ref('int_audit_events_unioned') }} as audits
        where (audits.tenant_id, audits.request_id) in (
            select
                touched.tenant_id,
                touched.request_id
            from touched
        )
    ),

    requests as (
        {{ fold_activation_requests('touched_audits') }}
    ),

    -- The requests built before, of the principals and roles being refolded: a re-activation looks back at them.
    earlier as (
        select
            built.tenant_id,
            built.request_id,
            built.principal_id,
            built.role_definition_id,
            built.requested_at,
            built.outcome,
            built.activation_ended_at
        from {{ this }} as built
        where
            (built.tenant_id, built.principal_id, built.role_definition_id) in (
                select
                    requests.tenant_id,
                    requests.principal_id,
                    requests.role_definition_id
                from requests
            )
            and (built.tenant_id, built.request_id) not in (
                select
                    requests.tenant_id,
                    requests.request_id
                from requests
            )
    ),
{% else %}
    requests as (
        select * from {{ ref('int_activation_requests_joined') }}
    ),
{% endif %}

roles as (
    select * from {{ ref('dim_roles') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

-- For each request being built, from the earlier requests of the same principal and role: the latest expiry, and
-- the latest month (UTC) with a successful activation. Both in one sort.
with_previous_expiry as (
    select
        lookback.*,
        max(lookback.activation_ended_at) over earlier_requests as previous_activation_ended_at,
        max(
            case
                when lookback.outcome = 'activated'
                    then date_trunc('month', timezone('UTC', lookback.requested_at))
            end
        ) over earlier_requests as previous_activated_month
    from (
        select
            *,
            true as is_being_built
        from requests
        {% if is_incremental() %}
            union all by name
            select
                *,
                false as is_being_built
            from earlier
        {% endif %}
    ) as lookback
    window earlier_requests as (
        partition by lookback.tenant_id, lookback.principal_id, lookback.role_definition_id
        order by lookback.requested_at, lookback.request_id
        rows between unbounded preceding and 1 preceding
    )
),

final as (
    select
        md5(concat_ws('|', requests.tenant_id, requests.request_id)) as activation_request_id,
        requests.tenant_id,
        requests.request_id,
        requests.principal_id,
        requests.role_definition_id,
        roles.role_name,
        coalesce(roles.is_privileged, false) as is_privileged_role,
        requests.justification,
        requests.requested_at,
        cast(date_trunc('month', timezone('UTC', requests.requested_at)) as date) as activation_month,
        requests.is_approval_required,
        requests.approval_requested_at,
        requests.approval_decision,
        requests.decided_at,
        requests.decided_by_user_id,
        requests.approval_latency_ms,
        requests.outcome,
        requests.activated_at,
        requests.activation_ended_at,
        requests.requested_start_at,
        requests.requested_end_at,
        requests.granted_start_at,
        requests.granted_end_at,
        datediff('millisecond', requests.requested_start_at, requests.requested_end_at) / 1000
            as requested_duration_seconds,
        datediff('millisecond', requests.granted_start_at, requests.granted_end_at) / 1000
            as granted_duration_seconds,
        -- PIM grants less than asked when the eligibility ends first; null when nothing was granted.
        datediff('millisecond', requests.granted_start_at, requests.granted_end_at)
        < datediff('millisecond', requests.requested_start_at, requests.requested_end_at)
            as is_granted_shorter_than_requested,
        case
            when requests.previous_activation_ended_at <= requests.requested_at
                then datediff('millisecond', requests.previous_activation_ended_at, requests.requested_at) / 1000
        end as seconds_since_previous_expiry,
        coalesce(
            requests.previous_activation_ended_at <= requests.requested_at
            and requests.requested_at
            <= requests.previous_activation_ended_at + to_seconds(thresholds.repeated_activation_window_seconds),
            false
        ) as is_reactivation_after_expiry,
        -- Counts the roles a principal activated in a month with a plain count (int_principal_activations_monthly):
        -- at 10M requests, grouping by role first, or counting distinct roles, took twice as long.
        requests.outcome = 'activated'
        and coalesce(
            requests.previous_activated_month != date_trunc('month', timezone('UTC', requests.requested_at)), true
        ) as is_first_activation_of_role_in_month,
        {{ activation_rules_fingerprint() }} as activation_rules_fingerprint,
        {{ refreshed_at() }} as refreshed_at
    from with_previous_expiry as requests
    cross join thresholds
    left join roles
        on
            requests.tenant_id = roles.tenant_id
            and requests.role_definition_id = roles.role_definition_id
    where requests.is_being_built and requests.requested_at is not null
)

select * from final
