-- The group memberships Azure access reaches through, one row per group x principal x path kind: every path into a
-- role-assignable group (int_group_memberships_unioned: plain, PIM for Groups eligible, active, owner), and the
-- users and service principals inside any other group that holds an Azure role, nested groups expanded (Azure RBAC
-- nests through security groups). A member already read as a role-assignable group's is not read twice.
with

role_assignable as (
    select * from {{ ref('int_group_memberships_unioned') }}
),

role_assignable_members as (
    select * from {{ ref('stg_graph__group_transitive_members') }}
),

azure_group_members as (
    select * from {{ ref('stg_arm__group_transitive_members') }}
),

plain_members as (
    select
        md5(concat_ws('|', tenant_id, group_id, member_id, 'group_member')) as group_membership_path_id,
        tenant_id,
        group_id,
        member_id as principal_id,
        'group_member' as path_kind,
        'active' as membership_state,
        true as is_standing_membership,
        'groups/transitiveMembers' as source_collection,
        cast(null as timestamptz) as start_at,
        cast(null as timestamptz) as end_at
    from azure_group_members
    where
        member_type in ('user', 'service_principal')
        and not exists (
            select 1
            from role_assignable_members
            where
                role_assignable_members.tenant_id = azure_group_members.tenant_id
                and role_assignable_members.group_id = azure_group_members.group_id
        )
),

final as (
    select
        group_membership_path_id,
        tenant_id,
        group_id,
        principal_id,
        path_kind,
        membership_state,
        is_standing_membership,
        source_collection,
        start_at,
        end_at
    from role_assignable
    union all
    select
        group_membership_path_id,
        tenant_id,
        group_id,
        principal_id,
        path_kind,
        membership_state,
        is_standing_membership,
        source_collection,
        start_at,
        end_at
    from plain_members
)

select * from final
