-- Eligibility schedule instances as of each day a run saw them (one snapshot per tenant and day).
with

source as (
    {{ daily_snapshots('role_eligibility_schedule_instances') }}
),

renamed as (
    select
        tenant_id,
        snapshot_date,
        id as eligibility_instance_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at
    from source
)

select * from renamed
