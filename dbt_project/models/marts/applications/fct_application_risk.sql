-- One risk row per app registration of the tenant: what its service principal reaches (tier-0 application
-- permissions, privileged roles by any path), who owns it, its credentials and its high-privilege delegated grants,
-- and a risk level with its reasons (pim-rules.md rules 18 to 20).
with

applications as (
    select * from {{ ref('stg_graph__applications') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

privileged as (
    select * from {{ ref('fct_privileged_service_principals') }}
),

owners as (
    select * from {{ ref('stg_graph__owners') }}
),

credentials as (
    select * from {{ ref('fct_application_credentials') }}
),

delegated as (
    select * from {{ ref('fct_high_privilege_delegated_grants') }}
),

joined as (
    select
        applications.tenant_id,
        applications.application_id,
        applications.app_id,
        applications.display_name,
        service_principals.service_principal_id
    from applications
    left join service_principals
        on
            applications.tenant_id = service_principals.tenant_id
            and applications.app_id = service_principals.app_id
),

owner_counts as (
    select
        joined.tenant_id,
        joined.application_id,
        count(distinct owners.owner_id) as owners
    from joined
    inner join owners
        on
            joined.tenant_id = owners.tenant_id
            and (
                (owners.owned_object_type = 'application' and joined.application_id = owners.owned_object_id)
                or (
                    owners.owned_object_type = 'service_principal'
                    and joined.service_principal_id = owners.owned_object_id
                )
            )
    group by joined.tenant_id, joined.application_id
),

credential_counts as (
    select
        tenant_id,
        app_id,
        count(*) filter (where credential_type = 'password') as password_credentials,
        count(*) filter (where credential_type = 'certificate') as certificate_credentials,
        count(*) filter (where is_expired) as expired_credentials,
        count(*) filter (where is_over_lifetime) as over_lifetime_credentials
    from credentials
    group by tenant_id, app_id
),

delegated_counts as (
    select
        tenant_id,
        client_service_principal_id,
        count(distinct grant_id) as high_privilege_delegated_grants
    from delegated
    group by tenant_id, client_service_principal_id
),

measured as (
    select
        joined.tenant_id,
        joined.application_id,
        joined.app_id,
        joined.display_name,
        joined.service_principal_id,
        coalesce(privileged.tier0_permissions, 0) as tier0_permissions,
        coalesce(privileged.tier0_roles, 0) as tier0_roles,
        coalesce(privileged.privileged_roles, 0) as privileged_roles,
        coalesce(privileged.is_tier0, false) as is_tier0,
        coalesce(owner_counts.owners, 0) as owners,
        coalesce(credential_counts.password_credentials, 0) as password_credentials,
        coalesce(credential_counts.certificate_credentials, 0) as certificate_credentials,
        coalesce(credential_counts.expired_credentials, 0) as expired_credentials,
        coalesce(credential_counts.over_lifetime_credentials, 0) as over_lifetime_credentials,
        coalesce(delegated_counts.high_privilege_delegated_grants, 0) as high_privilege_delegated_grants
    from joined
    left join privileged
        on
            joined.tenant_id = privileged.tenant_id
            and joined.service_principal_id = privileged.service_principal_id
    left join owner_counts
        on
            joined.tenant_id = owner_counts.tenant_id
            and joined.application_id = owner_counts.application_id
    left join credential_counts
        on
            joined.tenant_id = credential_counts.tenant_id
            and joined.app_id = credential_counts.app_id
    left join delegated_counts
        on
            joined.tenant_id = delegated_counts.tenant_id
            and joined.service_principal_id = delegated_counts.client_service_principal_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, application_id)) as application_risk_id,
        *,
        case
            when is_tier0 and (password_credentials > 0 or owners > 0) then 'critical'
            when is_tier0 or privileged_roles > 0 or high_privilege_delegated_grants > 0 then 'high'
            when expired_credentials > 0 or over_lifetime_credentials > 0 then 'medium'
            else 'low'
        end as risk_level,
        concat_ws(
            '; ',
            case when is_tier0 then 'reaches tier 0' end,
            case when not is_tier0 and privileged_roles > 0 then 'holds a privileged role' end,
            case when password_credentials > 0 then password_credentials || ' client secret(s)' end,
            case when owners > 0 then owners || ' owner(s)' end,
            case when high_privilege_delegated_grants > 0 then 'high-privilege delegated grant' end,
            case when expired_credentials > 0 then expired_credentials || ' expired credential(s)' end,
            case when over_lifetime_credentials > 0 then over_lifetime_credentials || ' long-lived credential(s)' end
        ) as risk_reasons
    from measured
)

select * from final
