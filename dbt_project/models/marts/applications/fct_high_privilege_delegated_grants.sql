-- Delegated grants that carry a high-privilege scope (delegated_scope_classification), one row per grant and such
-- scope: an admin's consent (AllPrincipals) lets the app act so for anyone who signs in to it.
with

grant_scopes as (
    select * from {{ ref('stg_graph__oauth2_permission_grants') }}
),

scopes as (
    select * from {{ ref('delegated_scope_classification') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

final as (
    select
        grant_scopes.grant_scope_id as high_privilege_grant_id,
        grant_scopes.tenant_id,
        grant_scopes.grant_id,
        grant_scopes.client_service_principal_id,
        service_principals.app_id as client_app_id,
        service_principals.display_name as client_display_name,
        grant_scopes.consent_type,
        grant_scopes.consent_type = 'AllPrincipals' as is_admin_consent,
        grant_scopes.principal_id,
        grant_scopes.resource_service_principal_id,
        grant_scopes.scope_name,
        scopes.reason
    from grant_scopes
    inner join scopes
        on grant_scopes.scope_name = scopes.scope_name
    left join service_principals
        on
            grant_scopes.tenant_id = service_principals.tenant_id
            and grant_scopes.client_service_principal_id = service_principals.service_principal_id
)

select * from final
