-- Administrative units from the latest snapshot: the scopes `/administrativeUnits/{id}` of AU-scoped role access.
with

source as (
    {{ latest_snapshot('administrative_units') }}
),

renamed as (
    select
        tenant_id,
        id as administrative_unit_id,
        record ->> 'displayName' as display_name,
        '/administrativeUnits/' || id as directory_scope_id,
        load_id
    from source
)

select * from renamed
