-- PIM for Groups assignment (member or owner) of role-assignable groups, from the latest snapshot.
with

source as (
    {{ latest_snapshot('pim_group_assignment_instances') }}
),

renamed as (
    select
        tenant_id,
        id as group_assignment_instance_id,
        record ->> 'groupId' as group_id,
        record ->> 'principalId' as principal_id,
        lower(record ->> 'accessId') as group_access,
        lower(record ->> 'memberType') as member_type,
        lower(record ->> 'assignmentType') as assignment_type,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
)

select * from renamed
