-- Microsoft's own PIM alerts, one row per incident of an active alert, beside pimlens' detection of the same kind
-- (pim_alert_kinds): whether pimlens found the same principal and role, role or principal.
with

incidents as (
    select * from {{ ref('stg_graph__pim_alert_incidents') }}
),

alerts as (
    select * from {{ ref('stg_graph__pim_alerts') }}
),

kinds as (
    select * from {{ ref('pim_alert_kinds') }}
),

pimlens_findings as (
    select * from {{ ref('int_pimlens_alert_findings') }}
),

keyed as (
    select
        incidents.*,
        kinds.alert_rule,
        kinds.compared_on,
        case kinds.compared_on
            when 'principal_role' then concat_ws('|', incidents.principal_id, incidents.role_definition_id)
            when 'role' then incidents.role_definition_id
            when 'principal' then incidents.principal_id
        end as finding_key
    from incidents
    left join kinds
        on incidents.alert_kind = kinds.alert_kind
),

final as (
    select
        keyed.pim_alert_incident_id,
        keyed.tenant_id,
        keyed.pim_alert_id,
        keyed.incident_id,
        keyed.alert_kind,
        keyed.incident_type,
        keyed.principal_id,
        keyed.role_definition_id,
        alerts.last_scanned_at,
        keyed.alert_rule,
        keyed.compared_on,
        pimlens_findings.finding_key is not null as is_found_by_pimlens
    from keyed
    left join alerts
        on
            keyed.tenant_id = alerts.tenant_id
            and keyed.pim_alert_id = alerts.pim_alert_id
    left join pimlens_findings
        on
            keyed.tenant_id = pimlens_findings.tenant_id
            and keyed.alert_kind = pimlens_findings.alert_kind
            and keyed.finding_key = pimlens_findings.finding_key
)

select * from final
