-- Every version of each directory role's PIM policy settings since the first run, from the dated snapshots of
-- the policy assignments: one row per role and version, with valid_from and valid_to (null while current).
with

assignment_versions as (
    {{ snapshot_history('role_management_policy_assignments') }}
),

rules as (
    select
        tenant_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        record ->> 'policyId' as policy_id,
        valid_from,
        valid_to,
        unnest(try_cast(record -> '$.policy.rules' as json[])) as policy_rule
    from assignment_versions
),

named_rules as (
    select
        *,
        policy_rule ->> 'id' as rule_name
    from rules
),

pivoted as (
    {{ pivot_policy_rules('named_rules', keys=['valid_from', 'valid_to']) }}
)

select * from pivoted
