{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'snapshot_date'],
        incremental_strategy='delete+insert',
    )
}}
-- Effective privilege for every day a run took a snapshot: the paths of fct_effective_privilege, one row per day
-- x principal x role x scope x path, derived by the same macro from the daily snapshots.
-- Incremental by day (macros/snapshot_days.sql): a daily run derives only the days on which a load committed
-- since the last build, not every day of history again; a change of the role classification rebuilds them all.
{%- set first_day = first_snapshot_day_to_build(effective_privilege_daily_fingerprint()) %}
with

effective_privilege as (
    {{ effective_privilege_paths(
        "(select * from " ~ ref('int_access_rows_daily') ~ " where snapshot_date >= date '" ~ first_day ~ "')",
        "(select * from " ~ ref('int_group_memberships_daily') ~ " where snapshot_date >= date '" ~ first_day ~ "')",
        grain=['snapshot_date'],
        principals_seen=ref('int_principals_seen'),
    ) }}
)

select
    *,
    {{ effective_privilege_daily_fingerprint() }} as design_fingerprint,
    {{ loads_committed_through() }} as loads_committed_through
from effective_privilege
