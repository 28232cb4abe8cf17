with

source as (
    {{ latest_snapshot('role_assignment_schedule_instances') }}
),

renamed as (
    select
        tenant_id,
        id as assignment_instance_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        record ->> 'appScopeId' as app_scope_id,
        record ->> 'assignmentType' as assignment_type,
        record ->> 'memberType' as member_type,
        record ->> 'roleAssignmentOriginId' as role_assignment_origin_id,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
)

select * from renamed
