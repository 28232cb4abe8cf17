-- Effective privilege for every day a run took a snapshot: the paths of fct_effective_privilege, one row per day
-- x principal x role x scope x path, derived by the same macro from the daily snapshots.
with

effective_privilege as (
    {{ effective_privilege_paths(
        ref('int_access_rows_daily'),
        ref('int_group_memberships_daily'),
        grain=['snapshot_date']
    ) }}
)

select * from effective_privilege
