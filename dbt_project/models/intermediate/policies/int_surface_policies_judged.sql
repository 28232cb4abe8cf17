-- The compliance matrix of the PIM policies beyond directory roles (docs/metrics.md, "Compliance matrix"): each
-- Azure role's policy at each subscription, and each onboarded group's member and owner policy, judged against
-- the design's tier requirements by the directory matrix's own rules (macros/role_compliance_matrix.sql).
-- An Azure role's tier is int_azure_roles_classified's. A group's tier is the highest of the roles it grants
-- (int_group_tiers_granted): whoever becomes a member or an owner reaches them. A group that holds no role is tier2.
with

azure_rules as (
    select
        tenant_id,
        role_definition_id,
        policy_scope_id,
        policy_id,
        rule_name,
        policy_rule
    from {{ ref('stg_arm__role_policy_rules') }}
),

azure_roles as (
    select * from {{ ref('int_azure_roles_classified') }}
),

group_rules as (
    select * from {{ ref('stg_graph__group_policy_rules') }}
),

group_tiers as (
    select * from {{ ref('int_group_tiers_granted') }}
),

requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

azure_policies as (
    {{ pivot_policy_rules('azure_rules', keys=['policy_scope_id']) }}
),

azure_matrix as (
    {{ role_compliance_matrix('azure_roles', 'azure_policies', 'requirements', keys=['policy_scope_id']) }}
),

-- One "role" per group and access (member, owner), keyed as group/access so the matrix matches it to its policy.
-- Named by the group's id, not its display name: a group can be named after a person, and role_name is never
-- pseudonymised (fct_group_role_grants.group_display_name has the name, pseudonymised with the option).
group_roles as (
    select
        group_rules.tenant_id,
        group_rules.group_id || '/' || group_rules.group_access as role_definition_id,
        'PIM for Groups ' || group_rules.group_access || 's of group ' || group_rules.group_id as role_name,
        coalesce(any_value(group_tiers.tier), 'tier2') as tier
    from group_rules
    left join group_tiers
        on
            group_rules.tenant_id = group_tiers.tenant_id
            and group_rules.group_id = group_tiers.group_id
    group by group_rules.tenant_id, group_rules.group_id, group_rules.group_access
),

group_rules_keyed as (
    select
        tenant_id,
        group_id || '/' || group_access as role_definition_id,
        group_id as policy_scope_id,
        policy_id,
        rule_name,
        policy_rule
    from group_rules
),

group_policies as (
    {{ pivot_policy_rules('group_rules_keyed', keys=['policy_scope_id']) }}
),

group_matrix as (
    {{ role_compliance_matrix('group_roles', 'group_policies', 'requirements', keys=['policy_scope_id']) }}
),

unioned as (
    select
        'azure' as role_system,
        *
    from azure_matrix
    union all by name
    select
        'pim_group' as role_system,
        * replace (regexp_extract(role_definition_id, '[^/]+$') as role_definition_id)
    from group_matrix
),

final as (
    select
        md5(concat_ws('|', tenant_id, role_system, policy_scope_id, role_definition_id, compliance_rule))
            as role_compliance_id,
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
    from unioned
)

select * from final
