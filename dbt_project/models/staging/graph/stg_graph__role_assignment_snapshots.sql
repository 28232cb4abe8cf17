-- Role assignments as of each day a run saw them (one snapshot per tenant and day).
with

source as (
    {{ daily_snapshots('role_assignments') }}
),

renamed as (
    select
        tenant_id,
        snapshot_date,
        id as role_assignment_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id
    from source
)

select * from renamed
