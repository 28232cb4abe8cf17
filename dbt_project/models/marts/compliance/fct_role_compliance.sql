-- The compliance matrix: one row per role and rule, the value the role's tier expects (design file) beside the
-- value its PIM policy has. A rule the tier sets no requirement for is not_required, never a pass. Directory roles
-- (role_system entra, policy scope /), then each Azure role's policy per subscription and each onboarded group's
-- member and owner policy (int_surface_policies_judged).
with

roles as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

policies as (
    select * from {{ ref('int_role_policies_pivoted') }}
),

requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

matrix as (
    {{ role_compliance_matrix('roles', 'policies', 'requirements') }}
),

surface_matrix as (
    select * from {{ ref('int_surface_policies_judged') }}
),

final as (
    select
        md5(concat_ws('|', tenant_id, role_definition_id, compliance_rule)) as role_compliance_id,
        tenant_id,
        role_definition_id,
        role_name,
        tier,
        policy_id,
        compliance_rule,
        expected_value,
        actual_value,
        compliance_status,
        is_failure,
        'entra' as role_system,
        '/' as policy_scope_id
    from matrix
    union all
    select
        role_compliance_id,
        tenant_id,
        role_definition_id,
        role_name,
        tier,
        policy_id,
        compliance_rule,
        expected_value,
        actual_value,
        compliance_status,
        is_failure,
        role_system,
        policy_scope_id
    from surface_matrix
)

select * from final
