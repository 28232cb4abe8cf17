-- One row per rule of the PIM policy that governs each Azure role at each subscription: the policy assignment
-- names the role and the policy, the policy holds the rules. ARM names a rule's kind in `ruleType`
-- (RoleManagementPolicyApprovalRule, ...) where Graph has `@odata.type`; the rule ids and settings are Graph's.
with

assignments as (
    {{ latest_snapshot('arm_role_management_policy_assignments') }}
),

policies as (
    {{ latest_snapshot('arm_role_management_policies') }}
),

assigned as (
    select distinct on (assignments.tenant_id, lower(assignments.id))
        assignments.tenant_id,
        lower(assignments.id) as policy_assignment_id,
        lower(regexp_extract(assignments.record -> 'properties' ->> 'roleDefinitionId', '[^/]+$'))
            as role_definition_id,
        assignments.record -> 'properties' ->> 'scope' as policy_scope_id,
        lower(assignments.record -> 'properties' ->> 'policyId') as policy_id
    from assignments
),

policy_rules as (
    select distinct on (policies.tenant_id, lower(policies.id))
        policies.tenant_id,
        lower(policies.id) as policy_id,
        try_cast(policies.record -> '$.properties.rules' as json[]) as rules,
        policies.load_id
    from policies
),

rules as (
    select
        assigned.tenant_id,
        assigned.policy_assignment_id,
        assigned.role_definition_id,
        assigned.policy_scope_id,
        assigned.policy_id,
        unnest(policy_rules.rules) as policy_rule,
        policy_rules.load_id
    from assigned
    inner join policy_rules
        on
            assigned.tenant_id = policy_rules.tenant_id
            and assigned.policy_id = policy_rules.policy_id
),

renamed as (
    select
        tenant_id,
        {{ policy_rule_keys('ruleType') }}
        policy_assignment_id,
        role_definition_id,
        policy_scope_id,
        policy_id,
        policy_rule,
        load_id
    from rules
)

select * from renamed
