with

role_definitions as (
    select * from {{ ref('stg_graph__role_definitions') }}
),

policies as (
    select * from {{ ref('int_role_policies_pivoted') }}
),

final as (
    select
        role_definitions.tenant_id,
        role_definitions.role_definition_id,
        role_definitions.role_name,
        role_definitions.template_id,
        role_definitions.is_built_in,
        role_definitions.is_enabled,
        coalesce(role_definitions.is_privileged, false) as is_privileged,
        policies.policy_id is not null as has_pim_policy,
        policies.is_approval_required,
        policies.is_mfa_required_on_activation,
        policies.is_justification_required_on_activation,
        policies.is_ticket_required_on_activation,
        policies.max_activation_duration,
        policies.is_permanent_eligibility_allowed
    from role_definitions
    left join policies
        on
            role_definitions.tenant_id = policies.tenant_id
            and role_definitions.role_definition_id = policies.role_definition_id
)

select * from final
