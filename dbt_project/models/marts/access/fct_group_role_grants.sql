-- Groups linked to the roles they grant (docs/metrics.md, "Activations of groups and Azure resources"): one row per
-- access row a group holds itself (directory or Azure role, scope, state), with how many users and service
-- principals reach the role through the group, by how (fct_effective_privilege's paths through it): active,
-- eligible (their membership or the group's access must be activated first), or owner (can make themself a
-- member). A group nobody sits in still has its rows, with zero principals.
with

access_rows as (
    select * from {{ ref('int_access_rows_classified') }}
),

groups as (
    select * from {{ ref('stg_graph__groups') }}
),

group_paths as (
    select * from {{ ref('fct_effective_privilege') }}
    where via_group_id is not null
),

grants as (
    select
        role_system,
        tenant_id,
        principal_id as group_id,
        role_definition_id,
        role_name,
        tier,
        is_privileged_role,
        directory_scope_id,
        access_state
    from access_rows
),

reached as (
    select
        tenant_id,
        via_group_id,
        role_system,
        role_definition_id,
        directory_scope_id,
        via_group_access_state,
        count(distinct principal_id) filter (where privilege_state = 'active') as active_principals,
        count(distinct principal_id) filter (where privilege_state = 'eligible') as eligible_principals,
        count(distinct principal_id) filter (where privilege_state = 'owner') as owners
    from group_paths
    group by all
),

final as (
    select
        md5(concat_ws(
            '|',
            grants.tenant_id,
            grants.group_id,
            grants.role_system,
            grants.role_definition_id,
            grants.directory_scope_id,
            grants.access_state
        )) as group_role_grant_id,
        grants.tenant_id,
        grants.group_id,
        groups.display_name as group_display_name,
        groups.is_assignable_to_role as is_role_assignable,
        grants.role_system,
        grants.role_definition_id,
        grants.role_name,
        grants.tier,
        grants.is_privileged_role,
        grants.directory_scope_id,
        grants.access_state as group_access_state,
        coalesce(reached.active_principals, 0) as active_principals,
        coalesce(reached.eligible_principals, 0) as eligible_principals,
        coalesce(reached.owners, 0) as owners
    from grants
    inner join groups
        on
            grants.tenant_id = groups.tenant_id
            and grants.group_id = groups.group_id
    left join reached
        on
            grants.tenant_id = reached.tenant_id
            and grants.group_id = reached.via_group_id
            and grants.role_system = reached.role_system
            and grants.role_definition_id = reached.role_definition_id
            and grants.directory_scope_id = reached.directory_scope_id
            and grants.access_state = reached.via_group_access_state
)

select * from final
