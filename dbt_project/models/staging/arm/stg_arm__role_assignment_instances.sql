-- Active Azure role assignments managed by PIM (Assigned or Activated) from the latest snapshot, one row per
-- instance, kept once across the subscriptions that list it (see stg_arm__role_eligibility_instances).
with

source as (
    {{ latest_snapshot('arm_role_assignment_schedule_instances') }}
),

renamed as (
    select
        tenant_id,
        lower(id) as assignment_instance_id,
        {{ arm_access_columns() }}
        record -> 'properties' ->> 'assignmentType' as assignment_type,
        lower(record -> 'properties' ->> 'originRoleAssignmentId') as role_assignment_origin_id,
        load_id
    from source
    qualify row_number() over (partition by tenant_id, lower(id) order by parent_key) = 1
)

select * from renamed
