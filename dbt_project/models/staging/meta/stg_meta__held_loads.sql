-- The loads a raw gate blocked and no operator released: the models read none of their rows. Which loads are held
-- is decided once, by the view meta.held_loads (pipelines/lib/warehouse/verdicts.py), which the gates and
-- `pimlens release-load` read too.
with

source as (
    select * from {{ source('meta', 'held_loads') }}
),

final as (
    select
        md5(concat_ws('|', load_id, gate)) as held_load_id,
        load_id,
        tenant_id,
        collection,
        gate,
        detail,
        decided_at
    from source
)

select * from final
