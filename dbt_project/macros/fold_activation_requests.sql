{#
    PIM activation requests rebuilt from their audit events: one row per request id, its lifecycle steps folded
    together. The request id is what typing read (RoleAssignmentRequestId, else RequestId, else the Request
    target; typed_events.py), never the correlationId, which differs between PIM's asynchronous steps. Access
    Reviews' parallel record of an approval (`Create request`, `Request approved`, `Request denied`) names the
    request by its first target's id, the key the reference documents: such a row folds into the same request and
    stands in for PIM's row of its step only when PIM logged none (its approver and decision time), so it is never
    counted twice and never moves a time PIM logged. Only Entra directory roles: PIM for Groups and Azure
    resource rows, whose targets are a group or an ARM scope, are not role activations. `audits` is a relation or
    a parenthesised query with int_audit_events_unioned's columns (Graph's copy, and Log Analytics' beyond Graph's
    30 days), so fct_activation_requests can fold only the requests a daily run touched (DuckDB does not push a
    filter on the request through the grouping).
#}
{% macro fold_activation_requests(audits) %}
with

stepped_events as (
    select
        audits.*,
        activities.lifecycle_step,
        audits.logged_by_service = 'Access Reviews' as is_access_reviews_record,
        -- A denial carrying RoleAssignmentExists is PIM refusing a request for a role already held, not a person.
        activities.lifecycle_step = 'denied'
        and coalesce(audits.failure_reason = 'RoleAssignmentExists', false) as is_refusal
    from {{ audits }} as audits
    inner join {{ ref('pim_audit_activities') }} as activities
        on audits.activity_display_name = activities.activity_display_name
    where
        audits.request_id is not null
        and audits.surface = 'directory_role'
        and activities.lifecycle_step in {{ activation_lifecycle_steps() }}
),

-- Access Reviews' record of a step PIM logged too is left out: PIM's row is the step.
lifecycle_events as (
    select *
    from stepped_events
    qualify
        not is_access_reviews_record
        or not bool_or(not is_access_reviews_record) over (partition by tenant_id, request_id, lifecycle_step)
),

folded as (
    select
        tenant_id,
        request_id,
        coalesce(
            any_value(principal_id) filter (where lifecycle_step = 'requested'), any_value(principal_id)
        ) as principal_id,
        coalesce(
            any_value(role_definition_id) filter (where lifecycle_step = 'requested'), any_value(role_definition_id)
        ) as role_definition_id,
        any_value(justification) filter (where lifecycle_step = 'requested') as justification,
        min(activity_at) filter (where lifecycle_step = 'requested') as requested_at,
        min(schedule_start_at) filter (where lifecycle_step = 'requested') as requested_start_at,
        min(schedule_end_at) filter (where lifecycle_step = 'requested') as requested_end_at,
        min(schedule_start_at) filter (where lifecycle_step = 'activated' and result = 'success') as granted_start_at,
        min(schedule_end_at) filter (where lifecycle_step = 'activated' and result = 'success') as granted_end_at,
        min(activity_at) filter (where lifecycle_step = 'approval_requested') as approval_requested_at,
        min(activity_at) filter (where lifecycle_step in ('approved', 'denied') and not is_refusal) as decided_at,
        any_value(initiated_by_user_id) filter (
            where lifecycle_step in ('approved', 'denied') and not is_refusal and initiated_by_user_id is not null
        ) as decided_by_user_id,
        bool_or(lifecycle_step = 'approved') as has_approval,
        bool_or(lifecycle_step = 'denied' and not is_refusal) as has_denial,
        bool_or(is_refusal) as has_refusal,
        bool_or(lifecycle_step = 'expired') as has_expired,
        bool_or(lifecycle_step = 'canceled') as has_cancellation,
        bool_or(lifecycle_step = 'activated' and result = 'success') as has_activation,
        bool_or(lifecycle_step = 'activated' and result = 'failure') as has_failure,
        min(activity_at) filter (where lifecycle_step = 'activated' and result = 'success') as activated_at,
        min(activity_at) filter (where lifecycle_step = 'activation_ended') as activation_ended_at
    from lifecycle_events
    group by tenant_id, request_id
    -- Access Reviews' rows alone are no request pimlens can read (no role, no requester).
    having bool_or(not is_access_reviews_record)
),

final as (
    select
        *,
        approval_requested_at is not null as is_approval_required,
        case
            when has_denial then 'denied'
            when has_expired then 'expired'
            when has_cancellation then 'canceled'
            when has_failure or has_refusal then 'failed'
            when has_activation then 'activated'
            else 'pending'
        end as outcome,
        case
            when has_approval then 'approved'
            when has_denial then 'denied'
        end as approval_decision,
        case
            when decided_at is not null and approval_requested_at is not null
                then datediff('millisecond', approval_requested_at, decided_at)
        end as approval_latency_ms
    from folded
)

select * from final
{% endmacro %}
