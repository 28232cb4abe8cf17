-- Every PIM activation request (fct_activation_requests) keyed to the star's dimensions and dated by the UTC day it
-- was made, its outcome as flags and its durations as numbers: approval latency in seconds, requested and granted
-- duration in hours. is_after_hours says the request raised an after_hours_activation alert (fct_alerts).
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

alerts as (
    select * from {{ ref('fct_alerts') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

roles as (
    select * from {{ ref('dim_role') }}
),

after_hours as (
    select distinct
        tenant_id,
        subject_id as request_id
    from alerts
    where alert_rule = 'after_hours_activation'
),

final as (
    select
        requests.activation_request_id,
        tenants.tenant_key,
        {{ star_key(['requests.tenant_id', 'requests.principal_id']) }} as principal_key,
        roles.role_key,
        {{ star_date_key(snapshot_day('requests.requested_at')) }} as requested_date_key,
        requests.tenant_id,
        requests.request_id,
        requests.outcome,
        requests.outcome = 'activated' as is_activated,
        coalesce(requests.is_approval_required, false) as is_approval_required,
        requests.approval_decision is not null as is_decided,
        coalesce(requests.approval_decision = 'approved', false) as is_approved,
        coalesce(requests.approval_decision = 'denied', false) as is_denied,
        requests.approval_latency_ms / 1000.0 as approval_latency_seconds,
        requests.requested_duration_seconds / 3600.0 as requested_duration_hours,
        requests.granted_duration_seconds / 3600.0 as granted_duration_hours,
        coalesce(requests.is_granted_shorter_than_requested, false) as is_granted_shorter_than_requested,
        coalesce(requests.is_reactivation_after_expiry, false) as is_reactivation_after_expiry,
        after_hours.request_id is not null as is_after_hours,
        requests.is_privileged_role
    from requests
    inner join tenants
        on requests.tenant_id = tenants.tenant_id
    inner join roles
        on
            requests.tenant_id = roles.tenant_id
            and roles.role_system = 'entra'
            and requests.role_definition_id = roles.role_definition_id
    left join after_hours
        on
            requests.tenant_id = after_hours.tenant_id
            and requests.request_id = after_hours.request_id
)

select * from final
