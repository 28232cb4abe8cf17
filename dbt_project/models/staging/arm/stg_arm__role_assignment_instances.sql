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
        record -> 'properties' ->> 'principalId' as principal_id,
        record -> 'properties' ->> 'principalType' as principal_type,
        lower(regexp_extract(record -> 'properties' ->> 'roleDefinitionId', '[^/]+$')) as role_definition_id,
        record -> '$.properties.expandedProperties.roleDefinition' ->> 'displayName' as role_name,
        record -> 'properties' ->> 'scope' as directory_scope_id,
        record -> 'properties' ->> 'assignmentType' as assignment_type,
        record -> 'properties' ->> 'memberType' as member_type,
        lower(record -> 'properties' ->> 'originRoleAssignmentId') as role_assignment_origin_id,
        try_cast(record -> 'properties' ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record -> 'properties' ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
    qualify row_number() over (partition by tenant_id, lower(id) order by parent_key) = 1
)

select * from renamed
