-- Everyone inside each role-assignable group, nested groups expanded; one row per group and member.
with

source as (
    {{ latest_snapshot('group_transitive_members') }}
),

renamed as (
    select
        tenant_id,
        md5(concat_ws('|', parent_key, id)) as group_membership_id,
        parent_key as group_id,
        id as member_id,
        {{ directory_object_type('record') }} as member_type,
        load_id
    from source
)

select * from renamed
