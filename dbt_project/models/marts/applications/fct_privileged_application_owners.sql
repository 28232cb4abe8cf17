-- Owners of privileged applications (fct_privileged_service_principals): each can add a credential to the app and
-- act with its permissions and roles, so each is as privileged as the app (pim-rules.md rule 18). One row per app,
-- owner and the object owned (the app registration or its service principal).
with

privileged as (
    select * from {{ ref('fct_privileged_service_principals') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

applications as (
    select * from {{ ref('stg_graph__applications') }}
),

owners as (
    select * from {{ ref('stg_graph__owners') }}
),

owned as (
    select
        privileged.tenant_id,
        privileged.service_principal_id,
        privileged.display_name,
        privileged.is_tier0,
        'service_principal' as owned_object_type,
        privileged.service_principal_id as owned_object_id
    from privileged
    union all
    select
        privileged.tenant_id,
        privileged.service_principal_id,
        privileged.display_name,
        privileged.is_tier0,
        'application' as owned_object_type,
        applications.application_id as owned_object_id
    from privileged
    inner join service_principals
        on
            privileged.tenant_id = service_principals.tenant_id
            and privileged.service_principal_id = service_principals.service_principal_id
    inner join applications
        on
            service_principals.tenant_id = applications.tenant_id
            and service_principals.app_id = applications.app_id
),

final as (
    select
        md5(concat_ws('|', owned.tenant_id, owned.owned_object_type, owned.owned_object_id, owners.owner_id))
            as privileged_application_owner_id,
        owned.tenant_id,
        owned.service_principal_id,
        owned.display_name as application_display_name,
        owned.is_tier0,
        owned.owned_object_type,
        owned.owned_object_id,
        owners.owner_id,
        case owners.owner_odata_type
            when '#microsoft.graph.user' then 'user'
            when '#microsoft.graph.servicePrincipal' then 'service_principal'
            else 'other'
        end as owner_type
    from owned
    inner join owners
        on
            owned.tenant_id = owners.tenant_id
            and owned.owned_object_type = owners.owned_object_type
            and owned.owned_object_id = owners.owned_object_id
)

select * from final
