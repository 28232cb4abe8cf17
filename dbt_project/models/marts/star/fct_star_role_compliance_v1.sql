-- The role x rule compliance matrix (fct_role_compliance) keyed to the star's role dimension, whose tier it is
-- sliced by.
with

compliance as (
    select * from {{ ref('fct_role_compliance') }}
    -- Directory roles: the contract's role dimension holds them only.
    where role_system = 'entra'
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

final as (
    select
        compliance.role_compliance_id,
        tenants.tenant_key,
        {{ star_key(['compliance.tenant_id', 'compliance.role_definition_id']) }} as role_key,
        compliance.tenant_id,
        compliance.compliance_rule,
        compliance.compliance_status,
        compliance.is_failure,
        compliance.compliance_status = 'pass' as is_pass
    from compliance
    inner join tenants
        on compliance.tenant_id = tenants.tenant_id
)

select * from final
