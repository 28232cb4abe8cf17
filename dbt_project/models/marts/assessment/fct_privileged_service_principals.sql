-- Service principals that reach tier 0 or hold a privileged role (pim-rules.md rules 18-19): which Graph
-- application permissions and roles make them so, and whether they carry secrets or owners that widen the path.
with

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

app_role_grants as (
    select * from {{ ref('stg_graph__service_principal_app_role_assignments') }}
),

owners as (
    select * from {{ ref('stg_graph__owners') }}
),

permissions as (
    select * from {{ ref('graph_permission_classification') }}
),

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    -- Directory roles: Azure access has marts and metrics of its own (docs/metrics.md, "Azure").
    where role_system = 'entra'
),

permission_counts as (
    select
        app_role_grants.tenant_id,
        app_role_grants.service_principal_id,
        count(distinct app_role_grants.app_role_id) filter (where permissions.is_tier0) as tier0_permissions,
        bool_or(permissions.attack_path = 'direct') as has_direct_path_permission,
        string_agg(distinct permissions.permission_name, ', ' order by permissions.permission_name) filter (
            where permissions.is_tier0
        ) as tier0_permission_names
    from app_role_grants
    inner join permissions
        on app_role_grants.app_role_id = permissions.app_role_id
    group by app_role_grants.tenant_id, app_role_grants.service_principal_id
),

-- The roles an app holds by any holder path: its own, and those of the role-assignable groups it is a member of.
role_counts as (
    select
        tenant_id,
        principal_id as service_principal_id,
        count(distinct role_definition_id) filter (where is_privileged_role) as privileged_roles,
        count(distinct role_definition_id) filter (where tier = 'tier0') as tier0_roles,
        bool_or(tier = 'tier0' and is_standing) as has_standing_tier0_role
    from effective_privilege
    where principal_type = 'service_principal' and is_holder
    group by tenant_id, principal_id
),

owner_counts as (
    select
        tenant_id,
        owned_object_id as service_principal_id,
        count(distinct owner_id) as owners
    from owners
    where owned_object_type = 'service_principal'
    group by tenant_id, owned_object_id
),

final as (
    select
        md5(concat_ws('|', service_principals.tenant_id, service_principals.service_principal_id))
            as privileged_service_principal_id,
        service_principals.tenant_id,
        service_principals.service_principal_id,
        service_principals.display_name,
        service_principals.service_principal_type,
        coalesce(permission_counts.tier0_permissions, 0) as tier0_permissions,
        permission_counts.tier0_permission_names,
        coalesce(permission_counts.has_direct_path_permission, false) as has_direct_path_permission,
        coalesce(role_counts.privileged_roles, 0) as privileged_roles,
        coalesce(role_counts.tier0_roles, 0) as tier0_roles,
        coalesce(role_counts.has_standing_tier0_role, false) as has_standing_tier0_role,
        service_principals.password_credential_count,
        service_principals.key_credential_count,
        coalesce(owner_counts.owners, 0) as owners,
        coalesce(permission_counts.tier0_permissions, 0) > 0 or coalesce(role_counts.tier0_roles, 0) > 0
            as is_tier0,
        (coalesce(permission_counts.tier0_permissions, 0) > 0 or coalesce(role_counts.tier0_roles, 0) > 0)
        and (service_principals.password_credential_count > 0 or coalesce(owner_counts.owners, 0) > 0)
            as is_tier0_with_secret_or_owner
    from service_principals
    left join permission_counts
        on
            service_principals.tenant_id = permission_counts.tenant_id
            and service_principals.service_principal_id = permission_counts.service_principal_id
    left join role_counts
        on
            service_principals.tenant_id = role_counts.tenant_id
            and service_principals.service_principal_id = role_counts.service_principal_id
    left join owner_counts
        on
            service_principals.tenant_id = owner_counts.tenant_id
            and service_principals.service_principal_id = owner_counts.service_principal_id
    where permission_counts.tier0_permissions > 0 or role_counts.privileged_roles > 0
)

select * from final
