-- PIM for Groups assignment instances as of each day a run saw them (one snapshot per tenant and day).
with

source as (
    {{ daily_snapshots('pim_group_assignment_instances') }}
),

renamed as (
    select
        tenant_id,
        snapshot_date,
        id as group_assignment_instance_id,
        record ->> 'groupId' as group_id,
        record ->> 'principalId' as principal_id,
        lower(record ->> 'accessId') as group_access,
        lower(record ->> 'assignmentType') as assignment_type,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at
    from source
)

select * from renamed
