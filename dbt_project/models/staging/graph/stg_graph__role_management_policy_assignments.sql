-- One row per PIM policy assignment of a directory role in the latest snapshot, with how many rules came inline
-- ($expand=policy($expand=rules)). Graph echoes the scopeType the filter sent (Directory or DirectoryRole) in the
-- assignment's id prefix; neither is read here. A policy that came without rules is not a policy with nothing
-- required: fct_unreadable_inputs counts it, and the metrics read from policies are unknown above the design's share.
with

source as (
    {{ latest_snapshot('role_management_policy_assignments') }}
),

renamed as (
    select
        tenant_id,
        id as policy_assignment_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        record ->> 'policyId' as policy_id,
        record ->> 'scopeType' as scope_type,
        coalesce(json_array_length(record -> '$.policy.rules'), 0) as rule_count,
        load_id
    from source
)

select * from renamed
