-- What Microsoft's active PIM alerts found: one row per incident, with the principal and role it names (an
-- incident of NoMfaOnRoleActivation names only a role).
with

source as (
    {{ latest_snapshot('pim_alert_incidents') }}
),

renamed as (
    select
        tenant_id,
        md5(concat_ws('|', parent_key, id)) as pim_alert_incident_id,
        parent_key as pim_alert_id,
        id as incident_id,
        -- Alert ids look like DirectoryRole_{tenantId}_{AlertId}; the last part names the alert kind.
        regexp_extract(parent_key, '_([A-Za-z]+)$', 1) as alert_kind,
        record ->> '@odata.type' as incident_type,
        record ->> 'assigneeId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        load_id
    from source
)

select * from renamed
