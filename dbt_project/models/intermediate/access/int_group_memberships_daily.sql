{{ config(materialized='view') }}  -- the daily marts read only the snapshot days they build (dbt_project.yml)
-- The group memberships of int_group_memberships_unioned for every day a run took a snapshot (one shared macro).
with

group_memberships as (
    {{ group_membership_paths(
        ref('stg_graph__group_transitive_member_snapshots'),
        ref('stg_graph__pim_group_eligibility_snapshots'),
        ref('stg_graph__pim_group_assignment_snapshots'),
        grain=['snapshot_date']
    ) }}
)

select * from group_memberships
