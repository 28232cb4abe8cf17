{{ config(materialized='view') }}  -- the daily marts read only the snapshot days they build (dbt_project.yml)
-- The access rows of int_access_rows_unioned, for every day a run took a snapshot: one row per day x principal
-- x role x scope x state. Same states and same collapsing as the latest-snapshot model (one shared macro).
with

access_rows as (
    {{ access_rows(
        ref('stg_graph__role_eligibility_snapshots'),
        ref('stg_graph__role_assignment_instance_snapshots'),
        ref('stg_graph__role_assignment_snapshots'),
        grain=['snapshot_date']
    ) }}
)

select * from access_rows
