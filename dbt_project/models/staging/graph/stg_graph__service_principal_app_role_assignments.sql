-- The application permissions each service principal holds, by the API's appRoleId.
with

source as (
    {{ latest_snapshot('service_principal_app_role_assignments') }}
),

renamed as (
    select
        tenant_id,
        md5(concat_ws('|', parent_key, id)) as app_role_grant_id,
        parent_key as service_principal_id,
        record ->> 'appRoleId' as app_role_id,
        record ->> 'resourceId' as resource_id,
        record ->> 'resourceDisplayName' as resource_name,
        try_cast(record ->> 'createdDateTime' as timestamptz) as created_at,
        load_id
    from source
)

select * from renamed
