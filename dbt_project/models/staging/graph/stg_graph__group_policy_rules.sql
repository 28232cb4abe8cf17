-- One row per rule of the PIM for Groups policy of each onboarded group's members or owners (Graph's
-- roleManagementPolicyAssignments with scopeType Group, roleDefinitionId member or owner, rules inline).
with

source as (
    {{ latest_snapshot('group_policy_assignments') }}
),

rules as (
    select
        source.tenant_id,
        source.id as policy_assignment_id,
        source.record ->> 'scopeId' as group_id,
        source.record ->> 'roleDefinitionId' as group_access,
        source.record ->> 'policyId' as policy_id,
        unnest(try_cast(source.record -> '$.policy.rules' as json[])) as policy_rule,
        source.load_id
    from source
),

renamed as (
    select
        tenant_id,
        {{ policy_rule_keys() }}
        policy_assignment_id,
        group_id,
        group_access,
        policy_id,
        policy_rule,
        load_id
    from rules
)

select * from renamed
