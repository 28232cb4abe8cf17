-- The compliance matrix: one row per role and rule, the value the role's tier expects (design file) beside the
-- value its PIM policy has. A rule the tier sets no requirement for is not_required, never a pass.
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

final as (
    select
        md5(concat_ws('|', tenant_id, role_definition_id, compliance_rule)) as role_compliance_id,
        *
    from matrix
)

select * from final
