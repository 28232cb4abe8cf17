-- Role-assignable groups' transitive members as of each day a run saw them (one snapshot per tenant and day).
with

source as (
    {{ daily_snapshots('group_transitive_members') }}
),

renamed as (
    select
        tenant_id,
        snapshot_date,
        parent_key as group_id,
        id as member_id,
        {{ directory_object_type('record') }} as member_type
    from source
)

select * from renamed
