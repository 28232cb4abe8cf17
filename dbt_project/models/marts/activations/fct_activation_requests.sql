{{
    config(
        materialized='incremental',
        unique_key='activation_request_id',
        incremental_strategy='delete+insert',
    )
}}
-- depends_on: {{ ref('stg_graph__directory_audits') }}
-- Incremental: a run rebuilds only the requests with an audit event in the last 7 days before the newest request
-- already built (a request's lifecycle ends within about three days: approval window plus longest activation),
-- so a daily run with 1 % new events does not refold the whole year.
with

requests as (
    select * from {{ ref('int_activation_requests_joined') }}
),

{% if is_incremental() %}
    touched as (
        select distinct
            audits.tenant_id,
            audits.request_id
        from {{ ref('stg_graph__directory_audits') }} as audits
        where audits.activity_at > (select max(built.requested_at) - interval 7 day from {{ this }} as built)
    ),
{% endif %}

roles as (
    select * from {{ ref('dim_roles') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

-- Over every request, before the incremental filter: a re-activation looks back at the requests before it.
with_previous_expiry as (
    select
        *,
        max(activation_ended_at) over (
            partition by tenant_id, principal_id, role_definition_id
            order by requested_at, request_id
            rows between unbounded preceding and 1 preceding
        ) as previous_activation_ended_at
    from requests
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
        ) as is_reactivation_after_expiry
    from with_previous_expiry as requests
    cross join thresholds
    left join roles
        on
            requests.tenant_id = roles.tenant_id
            and requests.role_definition_id = roles.role_definition_id
    {% if is_incremental() %}
        inner join touched
            on
                requests.tenant_id = touched.tenant_id
                and requests.request_id = touched.request_id
    {% endif %}
    where requests.requested_at is not null
)

select * from final
