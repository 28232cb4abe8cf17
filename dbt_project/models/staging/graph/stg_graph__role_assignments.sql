with

source as (
    {{ latest_snapshot('role_assignments') }}
),

renamed as (
    select
        tenant_id,
        id as role_assignment_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        record ->> 'appScopeId' as app_scope_id,
        load_id
    from source
)

select * from renamed
