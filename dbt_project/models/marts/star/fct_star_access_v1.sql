-- Every access row of the latest snapshot (fct_role_access) keyed to the star's dimensions: one row per principal
-- x role x scope x state, with the flags the access measures filter on.
with

access as (
    select * from {{ ref('fct_role_access') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

roles as (
    select * from {{ ref('dim_role') }}
),

final as (
    select
        access.access_id,
        tenants.tenant_key,
        {{ star_key(['access.tenant_id', 'access.principal_id']) }} as principal_key,
        roles.role_key,
        access.tenant_id,
        access.access_state,
        access.is_standing,
        access.access_state = 'eligible' as is_eligible,
        access.is_privileged_role,
        roles.is_global_admin_role,
        access.directory_scope_id
    from access
    inner join tenants
        on access.tenant_id = tenants.tenant_id
    inner join roles
        on
            access.tenant_id = roles.tenant_id
            and access.role_definition_id = roles.role_definition_id
)

select * from final
