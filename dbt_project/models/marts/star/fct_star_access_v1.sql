-- Every access row of the latest snapshot keyed to the star's dimensions: one row per principal x role x scope x
-- state, with the flags the access measures filter on. Directory access rows (fct_role_access, role_system entra)
-- and Azure access rows (int_azure_access_rows, role_system azure, scoped to an ARM path), a group's own row
-- included: Azure RBAC is granted to groups, and a group's row counts once (docs/metrics.md, "Azure").
with

access as (
    select * from {{ ref('fct_role_access') }}
),

azure_access as (
    select * from {{ ref('int_azure_access_rows') }}
),

azure_roles as (
    select * from {{ ref('int_azure_roles_classified') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

roles as (
    select * from {{ ref('dim_role') }}
),

unioned as (
    select
        access_id,
        tenant_id,
        principal_id,
        role_definition_id,
        access_state,
        is_standing,
        is_privileged_role,
        directory_scope_id,
        'entra' as role_system
    from access
    union all
    select
        azure_access.access_id,
        azure_access.tenant_id,
        azure_access.principal_id,
        azure_access.role_definition_id,
        azure_access.access_state,
        {{ standing_access_states('azure_access.access_state') }} as is_standing,
        coalesce(azure_roles.is_privileged, false) as is_privileged_role,
        azure_access.directory_scope_id,
        'azure' as role_system
    from azure_access
    left join azure_roles
        on
            azure_access.tenant_id = azure_roles.tenant_id
            and azure_access.role_definition_id = azure_roles.role_definition_id
),

final as (
    select
        unioned.access_id,
        tenants.tenant_key,
        {{ star_key(['unioned.tenant_id', 'unioned.principal_id']) }} as principal_key,
        roles.role_key,
        unioned.tenant_id,
        unioned.access_state,
        unioned.is_standing,
        unioned.access_state = 'eligible' as is_eligible,
        unioned.is_privileged_role,
        roles.is_global_admin_role,
        unioned.directory_scope_id,
        unioned.role_system
    from unioned
    inner join tenants
        on unioned.tenant_id = tenants.tenant_id
    inner join roles
        on
            unioned.tenant_id = roles.tenant_id
            and unioned.role_system = roles.role_system
            and unioned.role_definition_id = roles.role_definition_id
)

select * from final
