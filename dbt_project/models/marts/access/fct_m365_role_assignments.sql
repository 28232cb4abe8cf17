-- Intune's and Exchange Online's role assignments beside Entra roles (docs/metrics.md, "Other role systems"): one row
-- per role system, assignment, principal, role and scope. A group's assignment is expanded to each user and service
-- principal inside it, nested groups included, as Azure RBAC's is. A group none are listed inside (its members were
-- not read, or it has none) keeps its assignment as one row naming the group itself, never dropped. A system whose
-- collections were not read has no rows, and its metrics read unknown (metric_sources), as they do when the groups'
-- members were not read.
with

grants as (
    select * from {{ ref('stg_m365__role_assignments') }}
),

definitions as (
    select * from {{ ref('stg_m365__role_definitions') }}
),

group_members as (
    select * from {{ ref('stg_m365__group_transitive_members') }}
    where member_type in ('user', 'service_principal')
),

groups as (
    select * from {{ ref('stg_graph__groups') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

-- Holders of a privileged Entra role by any path, as privileged_principals counts them.
privileged_entra_holders as (
    select distinct
        tenant_id,
        principal_id
    from {{ ref('fct_effective_privilege') }}
    where role_system = 'entra' and is_privileged_role and is_holder
),

-- A grant is direct unless its principal is a group with users or service principals listed inside it.
direct_paths as (
    select
        grants.*,
        grants.principal_id as holder_id,
        cast(null as varchar) as via_group_id,
        'direct' as path_kind
    from grants
    where not exists (
        select 1 from group_members
        where group_members.tenant_id = grants.tenant_id and group_members.group_id = grants.principal_id
    )
),

group_paths as (
    select
        grants.*,
        group_members.member_id as holder_id,
        grants.principal_id as via_group_id,
        'group_member' as path_kind
    from grants
    inner join group_members
        on
            grants.tenant_id = group_members.tenant_id
            and grants.principal_id = group_members.group_id
),

paths as (
    select * from direct_paths
    union all
    select * from group_paths
),

final as (
    select
        md5(
            concat_ws(
                '|',
                paths.tenant_id,
                paths.role_system,
                paths.assignment_id,
                paths.holder_id,
                paths.via_group_id,
                paths.scope_kind,
                paths.scope_id
            )
        ) as m365_role_assignment_id,
        paths.tenant_id,
        paths.role_system,
        paths.assignment_id,
        paths.role_definition_id,
        definitions.role_name,
        definitions.is_built_in as is_built_in_role,
        paths.holder_id as principal_id,
        case
            when users.user_id is not null then 'user'
            when service_principals.service_principal_id is not null then 'service_principal'
            when groups.group_id is not null then 'group'
            else 'unknown'
        end as principal_type,
        paths.path_kind,
        paths.via_group_id,
        paths.scope_kind,
        paths.scope_id,
        paths.scope_id = '/' as is_tenant_wide,
        privileged_entra_holders.principal_id is not null as holds_privileged_entra_role
    from paths
    left join definitions
        on
            paths.tenant_id = definitions.tenant_id
            and paths.role_system = definitions.role_system
            and paths.role_definition_id = definitions.role_definition_id
    left join users
        on paths.tenant_id = users.tenant_id and paths.holder_id = users.user_id
    left join service_principals
        on
            paths.tenant_id = service_principals.tenant_id
            and paths.holder_id = service_principals.service_principal_id
    left join groups
        on paths.tenant_id = groups.tenant_id and paths.holder_id = groups.group_id
    left join privileged_entra_holders
        on
            paths.tenant_id = privileged_entra_holders.tenant_id
            and paths.holder_id = privileged_entra_holders.principal_id
)

select * from final
