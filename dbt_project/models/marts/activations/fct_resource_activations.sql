-- Activations beyond directory roles (docs/metrics.md, "Activations of groups and Azure resources"): one row per
-- PIM request of a PIM for Groups membership or ownership (surface group) or of an Azure role (surface
-- azure_resource), from PIM's audit rows of those surfaces, folded by request id as directory activations are.
-- The role is the access (member, owner) or the Azure role's GUID; the resource (typed at landing from the row's
-- targets, in either copy of the log) is the group or the ARM scope.
with

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
    where surface in ('group', 'azure_resource') and request_id is not null
),

activities as (
    select * from {{ ref('pim_audit_activities') }}
),

stepped as (
    select
        audits.*,
        activities.lifecycle_step
    from audits
    inner join activities
        on audits.activity_display_name = activities.activity_display_name
    where activities.lifecycle_step in {{ activation_lifecycle_steps() }}
),

folded as (
    select
        tenant_id,
        request_id,
        any_value(surface) as surface,
        any_value(principal_id) as principal_id,
        any_value(role_definition_id) as role_definition_id,
        any_value(resource_id) as resource_id,
        any_value(justification) as justification,
        min(activity_at) filter (where lifecycle_step = 'requested') as requested_at,
        min(activity_at) filter (where lifecycle_step = 'activated' and result = 'success') as activated_at,
        min(schedule_start_at) filter (where lifecycle_step = 'activated' and result = 'success') as granted_start_at,
        min(schedule_end_at) filter (where lifecycle_step = 'activated' and result = 'success') as granted_end_at,
        min(activity_at) filter (where lifecycle_step = 'activation_ended') as activation_ended_at,
        bool_or(lifecycle_step = 'activated' and result = 'success') as has_activation
    from stepped
    group by tenant_id, request_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, request_id)) as resource_activation_id,
        *,
        case when surface = 'group' then 'pim_group' else 'azure' end as role_system
    from folded
)

select * from final
