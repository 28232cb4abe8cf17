-- One row per tenant, collection and load: what the load received, landed and set aside. A load with anything
-- set aside is not clean, and the asset checks on raw warn about it (block above the design's threshold).
with

loads as (
    select * from {{ source('meta', 'loads') }}
),

quarantined as (
    select * from {{ ref('fct_quarantined_records') }}
),

per_load as (
    select
        load_id,
        count(*) filter (where quarantine_kind = 'quarantined') as quarantined_rows,
        count(distinct record_id) filter (where quarantine_kind = 'quarantined') as quarantined_record_ids,
        count(*) filter (where quarantine_kind = 'dead_letter') as dead_letters
    from quarantined
    group by load_id
),

final as (
    select
        loads.load_id as data_quality_id,
        loads.tenant_id,
        loads.collection,
        loads.load_id,
        loads.committed_at,
        loads.rows_received,
        loads.rows_inserted as rows_landed,
        coalesce(per_load.quarantined_rows, 0) as quarantined_rows,
        coalesce(per_load.quarantined_record_ids, 0) as quarantined_record_ids,
        coalesce(per_load.dead_letters, 0) as dead_letters,
        coalesce(per_load.quarantined_rows, 0) + coalesce(per_load.dead_letters, 0) = 0 as is_clean
    from loads
    left join per_load on loads.load_id = per_load.load_id
)

select * from final
