-- Secrets and certificates of the tenant's app registrations (metadata only: Graph never returns a value), and
-- those a service principal carries itself. Graph shows an application's credentials on its service principal as
-- well, under the same keyId: one row per app and keyId, the app registration's copy first.
with

applications as (
    {{ latest_snapshot('applications') }}
),

service_principals as (
    {{ latest_snapshot('service_principals') }}
),

listed as (
    select
        tenant_id,
        'application' as credential_source,
        record ->> 'appId' as app_id,
        'password' as credential_type,
        unnest(try_cast(record -> '$.passwordCredentials' as json[])) as credential
    from applications
    union all
    select
        tenant_id,
        'application' as credential_source,
        record ->> 'appId' as app_id,
        'certificate' as credential_type,
        unnest(try_cast(record -> '$.keyCredentials' as json[])) as credential
    from applications
    union all
    select
        tenant_id,
        'service_principal' as credential_source,
        record ->> 'appId' as app_id,
        'password' as credential_type,
        unnest(try_cast(record -> '$.passwordCredentials' as json[])) as credential
    from service_principals
    union all
    select
        tenant_id,
        'service_principal' as credential_source,
        record ->> 'appId' as app_id,
        'certificate' as credential_type,
        unnest(try_cast(record -> '$.keyCredentials' as json[])) as credential
    from service_principals
),

renamed as (
    select
        tenant_id,
        app_id,
        credential_source,
        credential_type,
        credential ->> 'keyId' as key_id,
        credential ->> 'displayName' as display_name,
        try_cast(credential ->> 'startDateTime' as timestamptz) as starts_at,
        try_cast(credential ->> 'endDateTime' as timestamptz) as ends_at
    from listed
),

final as (
    select
        md5(concat_ws('|', tenant_id, app_id, key_id)) as application_credential_id,
        *
    from renamed
    qualify row_number() over (
        partition by tenant_id, app_id, key_id order by credential_source = 'application' desc
    ) = 1
)

select * from final
