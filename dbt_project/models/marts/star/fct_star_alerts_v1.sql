-- Every alert raised (fct_alerts) keyed to the star's dimensions and dated by the UTC day pimlens first raised it;
-- principal_key and role_key are null for alerts about a role or the whole tenant.
with

alerts as (
    select * from {{ ref('fct_alerts') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

roles as (
    select * from {{ ref('dim_role') }}
),

final as (
    select
        alerts.alert_id,
        tenants.tenant_key,
        case
            when alerts.principal_id is not null
                then {{ star_key(['alerts.tenant_id', 'alerts.principal_id']) }}
        end as principal_key,
        roles.role_key,
        {{ star_date_key(snapshot_day('alerts.first_seen_at')) }} as first_seen_date_key,
        alerts.tenant_id,
        alerts.alert_rule,
        alerts.severity
    from alerts
    inner join tenants
        on alerts.tenant_id = tenants.tenant_id
    left join roles
        on
            alerts.tenant_id = roles.tenant_id
            and roles.role_system = 'entra'
            and alerts.role_definition_id = roles.role_definition_id
)

select * from final
