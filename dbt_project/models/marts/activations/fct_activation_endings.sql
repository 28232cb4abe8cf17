-- How each activation ended (docs/metrics.md, "Expiring access and deactivations"): one row per activation request
-- that activated a directory role, linked to the self-deactivation that ended it early (PIM's `Remove member from
-- role ... (PIM deactivate)` rows carry the activation's own RoleAssignmentRequestId), else to its expiry, else
-- still active at the evaluation instant; with the time granted and the time used.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
    where outcome = 'activated'
),

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

activities as (
    select * from {{ ref('pim_audit_activities') }}
),

deactivations as (
    select
        audits.tenant_id,
        audits.request_id,
        min(audits.activity_at) filter (where activities.lifecycle_step = 'deactivation_requested')
            as deactivation_requested_at,
        min(audits.activity_at) filter (where activities.lifecycle_step = 'deactivated') as deactivated_at
    from audits
    inner join activities
        on audits.activity_display_name = activities.activity_display_name
    where
        audits.surface = 'directory_role'
        and audits.request_id is not null
        and audits.result = 'success'
        and activities.lifecycle_step in ('deactivation_requested', 'deactivated')
    group by audits.tenant_id, audits.request_id
),

final as (
    select
        requests.activation_request_id as activation_ending_id,
        requests.tenant_id,
        requests.request_id,
        requests.principal_id,
        requests.role_definition_id,
        requests.role_name,
        requests.is_privileged_role,
        requests.activated_at,
        requests.granted_end_at,
        deactivations.deactivation_requested_at,
        deactivations.deactivated_at,
        requests.activation_ended_at as ran_out_at,
        case
            when deactivations.deactivated_at is not null then 'self_deactivation'
            when requests.activation_ended_at is not null then 'expiry'
            else 'active'
        end as ended_by,
        deactivations.deactivated_at is not null as is_self_deactivated,
        requests.granted_duration_seconds,
        datediff(
            'millisecond',
            requests.granted_start_at,
            coalesce(deactivations.deactivated_at, requests.activation_ended_at)
        ) / 1000 as used_seconds
    from requests
    left join deactivations
        on
            requests.tenant_id = deactivations.tenant_id
            and requests.request_id = deactivations.request_id
)

select * from final
