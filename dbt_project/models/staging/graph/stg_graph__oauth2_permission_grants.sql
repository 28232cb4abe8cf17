-- Delegated permission grants: which client app may act as the signed-in user (consentType Principal) or as anyone
-- (AllPrincipals, an admin's consent) on which API, with which scopes. One row per grant and scope.
with

source as (
    {{ latest_snapshot('oauth2_permission_grants') }}
),

scopes as (
    select
        tenant_id,
        id as grant_id,
        record ->> 'clientId' as client_service_principal_id,
        record ->> 'consentType' as consent_type,
        record ->> 'principalId' as principal_id,
        record ->> 'resourceId' as resource_service_principal_id,
        unnest(string_split(trim(coalesce(record ->> 'scope', '')), ' ')) as scope_name
    from source
),

final as (
    select
        md5(concat_ws('|', tenant_id, grant_id, scope_name)) as grant_scope_id,
        *
    from scopes
    where scope_name != ''
)

select * from final
