-- Every way a user or service principal sits in a role-assignable group today, one row per group x principal x
-- path kind: a plain (transitive) membership, or PIM for Groups member or owner, eligible or active.
with

group_memberships as (
    {{ group_membership_paths(
        ref('stg_graph__group_transitive_members'),
        ref('stg_graph__pim_group_eligibility_instances'),
        ref('stg_graph__pim_group_assignment_instances')
    ) }}
)

select * from group_memberships
