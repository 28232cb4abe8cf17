-- Per tenant and kind of Microsoft PIM alert: how many findings Microsoft and pimlens each have, compared on the
-- kind's key (pim_alert_kinds), and how many both have. A side whose sources were not read is null, never 0.
with

coverage as (
    select * from {{ ref('stg_meta__coverage') }}
),

kinds as (
    select * from {{ ref('pim_alert_kinds') }}
),

incidents as (
    select * from {{ ref('fct_pim_alert_incidents') }}
),

pimlens_findings as (
    select * from {{ ref('int_pimlens_alert_findings') }}
),

settings as (
    select * from {{ ref('stg_graph__pim_alert_settings') }}
),

tenants as (
    select
        tenant_id,
        coalesce(bool_and(is_covered) filter (where collection in ('pim_alerts', 'pim_alert_incidents')), false)
            as is_microsoft_read,
        coalesce(bool_and(is_covered) filter (where collection = 'la_signin_logs'), false) as is_sign_ins_read
    from coverage
    group by tenant_id
),

microsoft_findings as (
    select distinct
        tenant_id,
        alert_kind,
        case compared_on
            when 'principal_role' then concat_ws('|', principal_id, role_definition_id)
            when 'role' then role_definition_id
            when 'principal' then principal_id
        end as finding_key
    from incidents
),

compared as (
    select
        coalesce(microsoft_findings.tenant_id, pimlens_findings.tenant_id) as tenant_id,
        coalesce(microsoft_findings.alert_kind, pimlens_findings.alert_kind) as alert_kind,
        microsoft_findings.finding_key is not null as is_microsoft,
        pimlens_findings.finding_key is not null as is_pimlens
    from microsoft_findings
    full outer join pimlens_findings
        on
            microsoft_findings.tenant_id = pimlens_findings.tenant_id
            and microsoft_findings.alert_kind = pimlens_findings.alert_kind
            and microsoft_findings.finding_key = pimlens_findings.finding_key
),

counts as (
    select
        tenant_id,
        alert_kind,
        count(*) filter (where is_microsoft) as microsoft_findings,
        count(*) filter (where is_pimlens) as pimlens_findings,
        count(*) filter (where is_microsoft and is_pimlens) as both_findings
    from compared
    group by tenant_id, alert_kind
),

agreement as (
    select
        md5(concat_ws('|', tenants.tenant_id, kinds.alert_kind)) as pim_alert_agreement_id,
        tenants.tenant_id,
        kinds.alert_kind,
        nullif(kinds.alert_rule, '') as alert_rule,
        kinds.compared_on,
        settings.display_name as alert_name,
        settings.severity,
        settings.is_enabled,
        settings.window_days,
        tenants.is_microsoft_read and (kinds.alert_kind != 'StaleSignInAlert' or tenants.is_sign_ins_read)
            as is_known,
        coalesce(counts.microsoft_findings, 0) as microsoft_findings,
        coalesce(counts.pimlens_findings, 0) as pimlens_findings,
        coalesce(counts.both_findings, 0) as both_findings,
        coalesce(counts.microsoft_findings, 0) - coalesce(counts.both_findings, 0) as microsoft_only_findings,
        coalesce(counts.pimlens_findings, 0) - coalesce(counts.both_findings, 0) as pimlens_only_findings
    from tenants
    cross join kinds
    left join counts
        on
            tenants.tenant_id = counts.tenant_id
            and kinds.alert_kind = counts.alert_kind
    left join settings
        on
            tenants.tenant_id = settings.tenant_id
            and kinds.alert_kind = settings.alert_kind
),

final as (
    select
        pim_alert_agreement_id,
        tenant_id,
        alert_kind,
        alert_rule,
        compared_on,
        alert_name,
        severity,
        is_enabled,
        window_days,
        is_known,
        case when is_known then microsoft_findings end as microsoft_findings,
        case when is_known then pimlens_findings end as pimlens_findings,
        case when is_known then both_findings end as both_findings,
        case when is_known then microsoft_only_findings end as microsoft_only_findings,
        case when is_known then pimlens_only_findings end as pimlens_only_findings
    from agreement
)

select * from final
