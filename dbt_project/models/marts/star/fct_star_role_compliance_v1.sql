-- The role x policy scope x rule compliance matrix (fct_role_compliance) keyed to the star's role dimension, whose
-- tier it is sliced by: directory roles (role_system entra, policy scope /), each Azure role's policy at each
-- subscription (azure) and each onboarded group's member and owner policy (pim_group, the group's "role"
-- <group id>/<member|owner> in dim_role).
with

compliance as (
    select * from {{ ref('fct_role_compliance') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

keyed as (
    select
        *,
        case
            when role_system = 'pim_group' then policy_scope_id || '/' || role_definition_id
            else role_definition_id
        end as dim_role_definition_id
    from compliance
),

final as (
    select
        keyed.role_compliance_id,
        tenants.tenant_key,
        {{ star_role_key('keyed.tenant_id', 'keyed.role_system', 'keyed.dim_role_definition_id') }} as role_key,
        keyed.tenant_id,
        keyed.compliance_rule,
        keyed.compliance_status,
        keyed.is_failure,
        keyed.compliance_status = 'pass' as is_pass,
        keyed.role_system,
        keyed.policy_scope_id
    from keyed
    inner join tenants
        on keyed.tenant_id = tenants.tenant_id
)

select * from final
