-- pimlens' own findings for each kind of Microsoft PIM alert (pim_alert_kinds), keyed as that kind is compared:
-- the alerts of fct_alerts, and the stale accounts of fct_privileged_account_sign_ins. Distinct keys.
with

alerts as (
    select * from {{ ref('fct_alerts') }}
),

accounts as (
    select * from {{ ref('fct_privileged_account_sign_ins') }}
),

kinds as (
    select * from {{ ref('pim_alert_kinds') }}
),

detections as (
    select
        tenant_id,
        alert_rule,
        principal_id,
        role_definition_id
    from alerts
    union all
    select
        tenant_id,
        'stale_sign_in' as alert_rule,
        user_id as principal_id,
        null as role_definition_id
    from accounts
    -- Microsoft's StaleSignInAlert watches holders of directory roles only.
    where is_stale and holds_directory_role
),

final as (
    select distinct
        detections.tenant_id,
        kinds.alert_kind,
        case kinds.compared_on
            when 'principal_role' then concat_ws('|', detections.principal_id, detections.role_definition_id)
            when 'role' then detections.role_definition_id
            when 'principal' then detections.principal_id
        end as finding_key
    from detections
    inner join kinds
        on detections.alert_rule = kinds.alert_rule
)

select * from final
