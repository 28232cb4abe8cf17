-- Microsoft's own PIM alerts for directory roles: which are active and how many incidents they hold.
with

source as (
    {{ latest_snapshot('pim_alerts') }}
),

renamed as (
    select
        tenant_id,
        id as pim_alert_id,
        -- Alert ids look like DirectoryRole_{tenantId}_{AlertId}; the last part names the alert kind.
        regexp_extract(id, '_([A-Za-z]+)$', 1) as alert_kind,
        try_cast(record ->> 'isActive' as boolean) as is_active,
        try_cast(record ->> 'incidentCount' as integer) as incident_count,
        try_cast(record ->> 'lastScannedDateTime' as timestamptz) as last_scanned_at,
        load_id
    from source
)

select * from renamed
