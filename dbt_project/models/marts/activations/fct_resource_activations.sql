-- Activations beyond directory roles (docs/metrics.md, "Activations of groups and Azure resources"): one row per
-- PIM request of a PIM for Groups membership or ownership (surface group) or of an Azure role (surface
-- azure_resource), from PIM's audit rows of those surfaces, folded by request id as directory activations are.
-- The role is the access (member, owner) or the Azure role's GUID; the resource, read from the row's targets, is the
-- group or the ARM scope.
with

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
    where surface in ('group', 'azure_resource') and request_id is not null
),

activities as (
    select * from {{ ref('pim_audit_activities') }}
),

-- The resource each row names: the target whose id is an ARM path, else the Group target.
raw_targets as (
    select
        raw_rows.tenant_id,
        raw_rows.id as audit_event_id,
        unnest(from_json(raw_rows.record -> 'targetResources', '[{"id": "VARCHAR", "type": "VARCHAR"}]'))
            as target_resource
    from {{ source('raw', 'directory_audits') }} as raw_rows
    where (raw_rows.tenant_id, raw_rows.id) in (
        select
            audits.tenant_id,
            audits.audit_event_id
        from audits
    )
),

resources as (
    select
        tenant_id,
        audit_event_id,
        coalesce(
            any_value(struct_extract(target_resource, 'id')) filter (
                where starts_with(lower(struct_extract(target_resource, 'id')), '/subscriptions/')
                or starts_with(lower(struct_extract(target_resource, 'id')), '/providers/microsoft.management/')
            ),
            any_value(struct_extract(target_resource, 'id')) filter (
                where lower(struct_extract(target_resource, 'type')) = 'group'
            )
        ) as resource_id
    from raw_targets
    group by tenant_id, audit_event_id
),

stepped as (
    select
        audits.*,
        activities.lifecycle_step,
        resources.resource_id
    from audits
    inner join activities
        on audits.activity_display_name = activities.activity_display_name
    left join resources
        on
            audits.tenant_id = resources.tenant_id
            and audits.audit_event_id = resources.audit_event_id
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
