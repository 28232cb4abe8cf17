with

source as (
    {{ latest_snapshot('applications') }}
),

renamed as (
    select
        tenant_id,
        id as application_id,
        record ->> 'appId' as app_id,
        record ->> 'displayName' as display_name,
        coalesce(json_array_length(record -> 'passwordCredentials'), 0) as password_credential_count,
        coalesce(json_array_length(record -> 'keyCredentials'), 0) as key_credential_count,
        try_cast(record ->> 'createdDateTime' as timestamptz) as created_at,
        load_id
    from source
)

select * from renamed
