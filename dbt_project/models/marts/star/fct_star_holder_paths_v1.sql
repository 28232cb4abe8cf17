-- Every path by which a principal holds a directory role in the latest snapshot (fct_effective_privilege: directly,
-- as a member of a role-assignable group, through PIM for Groups, or as a group's owner) keyed to the star's
-- dimensions. The head-count measures count distinct principals over its holder paths, as the headline does
-- (docs/metrics.md, "Head-counts"); an owner's path is a row, never a holder.
with

paths as (
    select * from {{ ref('fct_effective_privilege') }}
    -- Directory roles: Azure access has marts and metrics of its own (docs/metrics.md, "Azure").
    where role_system = 'entra'
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
        coalesce(roles.is_global_admin_role, false) as is_global_admin_role
    from paths
    inner join tenants
        on paths.tenant_id = tenants.tenant_id
    inner join roles
        on
            paths.tenant_id = roles.tenant_id
            and paths.role_definition_id = roles.role_definition_id
)

select * from final
