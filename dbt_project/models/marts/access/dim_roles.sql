-- Every directory role the tenant's data names (int_role_definitions_resolved), with the settings of its PIM
-- policy. A custom role's policy may be keyed by its id or by its template id: the role's own id wins, then the
-- catalogue role it resolved to, then its template id. is_privileged is the resolved tier's (tier0 or tier1,
-- int_role_tiers_resolved), the one meaning every mart uses; Microsoft's flag is kept as is_privileged_microsoft.
with

role_definitions as (
    select * from {{ ref('int_role_definitions_resolved') }}
),

policies as (
    select * from {{ ref('int_role_policies_pivoted') }}
),

role_tiers as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

role_policies as (
    select
        role_definitions.tenant_id,
        role_definitions.role_definition_id,
        policies.policy_id,
        policies.is_approval_required,
        policies.is_mfa_required_on_activation,
        policies.is_justification_required_on_activation,
        policies.is_ticket_required_on_activation,
        policies.max_activation_duration,
        policies.is_permanent_eligibility_allowed
    from role_definitions
    inner join policies
        on
            role_definitions.tenant_id = policies.tenant_id
            and policies.role_definition_id in (
                role_definitions.role_definition_id,
                role_definitions.catalogue_role_definition_id,
                role_definitions.template_id
            )
    qualify row_number() over (
        partition by role_definitions.tenant_id, role_definitions.role_definition_id
        order by
            policies.role_definition_id = role_definitions.role_definition_id desc,
            policies.role_definition_id = role_definitions.catalogue_role_definition_id desc
    ) = 1
),

final as (
    select
        role_definitions.tenant_id,
        role_definitions.role_definition_id,
        role_definitions.role_name,
        role_definitions.template_id,
        role_definitions.is_built_in,
        role_definitions.is_enabled,
        coalesce(role_tiers.is_privileged, false) as is_privileged,
        coalesce(role_definitions.is_privileged, false) as is_privileged_microsoft,
        role_tiers.tier,
        role_definitions.role_resolution,
        role_definitions.is_unknown_role,
        role_policies.policy_id is not null as has_pim_policy,
        role_policies.is_approval_required,
        role_policies.is_mfa_required_on_activation,
        role_policies.is_justification_required_on_activation,
        role_policies.is_ticket_required_on_activation,
        role_policies.max_activation_duration,
        role_policies.is_permanent_eligibility_allowed
    from role_definitions
    left join role_policies
        on
            role_definitions.tenant_id = role_policies.tenant_id
            and role_definitions.role_definition_id = role_policies.role_definition_id
    left join role_tiers
        on
            role_definitions.tenant_id = role_tiers.tenant_id
            and role_definitions.role_definition_id = role_tiers.role_definition_id
)

select * from final
