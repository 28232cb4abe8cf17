-- Users as of each day a run saw them (one snapshot per tenant and day): the department the daily rollout mart
-- counts a principal under that day.
with

source as (
    {{ daily_snapshots('users') }}
),

renamed as (
    select
        tenant_id,
        snapshot_date,
        id as user_id,
        record ->> 'department' as department
    from source
)

select * from renamed
