-- Every path by which a principal holds a directory role or an Azure role in the latest snapshot
-- (fct_effective_privilege: directly, as a member of a group, through PIM for Groups, or as a group's owner) keyed
-- to the star's dimensions; role_system says which (entra, azure), scope_type and directory_scope_id where it
-- applies (an Azure scope is an ARM path). The head-count measures count distinct principals over its holder
-- paths of one role system, as the headline does (docs/metrics.md, "Head-counts", "Azure"); an owner's path is a
-- row, never a holder.
with

paths as (
    select * from {{ ref('fct_effective_privilege') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

roles as (
    select * from {{ ref('dim_role') }}
),

final as (
    select
        paths.effective_privilege_id,
        tenants.tenant_key,
        {{ star_key(['paths.tenant_id', 'paths.principal_id']) }} as principal_key,
        roles.role_key,
        paths.tenant_id,
        paths.path_kind,
        paths.privilege_state,
        paths.is_holder,
        paths.is_standing,
        paths.is_privileged_role,
        coalesce(roles.is_global_admin_role, false) as is_global_admin_role,
        paths.role_system,
        paths.scope_type,
        paths.directory_scope_id
    from paths
    inner join tenants
        on paths.tenant_id = tenants.tenant_id
    inner join roles
        on
            paths.tenant_id = roles.tenant_id
            and paths.role_system = roles.role_system
            and paths.role_definition_id = roles.role_definition_id
)

select * from final
