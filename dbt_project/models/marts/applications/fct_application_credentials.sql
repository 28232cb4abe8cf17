-- Every secret and certificate of the tenant's apps (pim-rules.md rule 20): its age, its expiry, and whether it was
-- made to live longer than app_credential_lifetime_limits allows.
with

credentials as (
    select * from {{ ref('stg_graph__application_credentials') }}
),

applications as (
    select * from {{ ref('stg_graph__applications') }}
),

limits as (
    select * from {{ ref('app_credential_lifetime_limits') }}
),

evaluated_at as (
    select {{ as_of() }} as evaluated_at
),

final as (
    select
        credentials.application_credential_id,
        credentials.tenant_id,
        credentials.app_id,
        applications.application_id,
        applications.display_name as application_display_name,
        credentials.credential_source,
        credentials.credential_type,
        credentials.key_id,
        credentials.starts_at,
        credentials.ends_at,
        date_diff('day', credentials.starts_at, credentials.ends_at) as lifetime_days,
        date_diff('day', credentials.starts_at, evaluated_at.evaluated_at) as age_days,
        date_diff('day', evaluated_at.evaluated_at, credentials.ends_at) as days_to_expiry,
        limits.max_lifetime_days,
        credentials.ends_at < evaluated_at.evaluated_at as is_expired,
        credentials.ends_at - credentials.starts_at > to_days(limits.max_lifetime_days) as is_over_lifetime
    from credentials
    cross join evaluated_at
    left join limits
        on credentials.credential_type = limits.credential_type
    left join applications
        on
            credentials.tenant_id = applications.tenant_id
            and credentials.app_id = applications.app_id
)

select * from final
