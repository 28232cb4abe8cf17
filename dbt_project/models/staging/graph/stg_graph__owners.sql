-- Owners of app registrations and service principals: anyone here can add a credential to the app.
with

application_owners as (
    {{ latest_snapshot('application_owners') }}
),

service_principal_owners as (
    {{ latest_snapshot('service_principal_owners') }}
),

unioned as (
    select
        *,
        'application' as owned_object_type
    from application_owners
    union all
    select
        *,
        'service_principal' as owned_object_type
    from service_principal_owners
),

renamed as (
    select
        tenant_id,
        md5(concat_ws('|', owned_object_type, parent_key, id)) as ownership_id,
        owned_object_type,
        parent_key as owned_object_id,
        id as owner_id,
        record ->> '@odata.type' as owner_odata_type,
        load_id
    from unioned
)

select * from renamed
