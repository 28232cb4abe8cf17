-- Everyone inside each group that holds an Azure role, nested groups expanded; one row per group and member.
-- Azure RBAC reaches through any security group, nested ones included (role-assignable groups cannot nest).
with

source as (
    {{ latest_snapshot('arm_group_transitive_members') }}
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
