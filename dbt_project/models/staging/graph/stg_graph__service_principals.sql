with

source as (
    {{ latest_snapshot('service_principals') }}
),

renamed as (
    select
        tenant_id,
        id as service_principal_id,
        record ->> 'appId' as app_id,
        record ->> 'displayName' as display_name,
        record ->> 'servicePrincipalType' as service_principal_type,
        try_cast(record ->> 'accountEnabled' as boolean) as is_account_enabled,
        coalesce(json_array_length(record -> 'passwordCredentials'), 0) as password_credential_count,
        coalesce(json_array_length(record -> 'keyCredentials'), 0) as key_credential_count,
        load_id
    from source
)

select * from renamed
