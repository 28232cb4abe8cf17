-- One row per rule of the PIM policy that governs each directory role.
with

source as (
    {{ latest_snapshot('role_management_policy_assignments') }}
),

rules as (
    select
        source.tenant_id,
        source.id as policy_assignment_id,
        source.record ->> 'roleDefinitionId' as role_definition_id,
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
        role_definition_id,
        policy_id,
        policy_rule,
        load_id
    from rules
)

select * from renamed
