-- What each PIM alert is and how the tenant set it: its definition (name, severity) and its configuration (enabled,
-- and the window or thresholds of the configurable ones, graph-pim.md section 10). One row per alert kind.
with

definitions as (
    {{ latest_snapshot('pim_alert_definitions') }}
),

configurations as (
    {{ latest_snapshot('pim_alert_configurations') }}
),

kinds as (
    select
        coalesce(definitions.tenant_id, configurations.tenant_id) as tenant_id,
        regexp_extract(coalesce(definitions.id, configurations.id), '_([A-Za-z]+)$', 1) as alert_kind,
        definitions.record as definition_record,
        configurations.record as configuration_record
    from definitions
    full outer join configurations
        on
            definitions.tenant_id = configurations.tenant_id
            and definitions.id = configurations.record ->> 'alertDefinitionId'
),

final as (
    select
        md5(concat_ws('|', tenant_id, alert_kind)) as pim_alert_setting_id,
        tenant_id,
        alert_kind,
        definition_record ->> 'displayName' as display_name,
        definition_record ->> 'severityLevel' as severity,
        try_cast(configuration_record ->> 'isEnabled' as boolean) as is_enabled,
        -- StaleSignIn and RedundantAssignment: days (an ISO-8601 duration such as P30D).
        ({{ iso8601_duration_seconds("configuration_record ->> 'duration'") }}) // 86400 as window_days,
        try_cast(configuration_record ->> 'globalAdminCountThreshold' as integer) as global_admin_count_threshold,
        try_cast(configuration_record ->> 'sequentialActivationCounterThreshold' as integer)
            as activation_count_threshold
    from kinds
)

select * from final
