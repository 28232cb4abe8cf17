with

source as (
    {{ latest_snapshot('role_eligibility_schedule_instances') }}
),

renamed as (
    select
        tenant_id,
        id as eligibility_instance_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        record ->> 'appScopeId' as app_scope_id,
        record ->> 'memberType' as member_type,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
)

select * from renamed
