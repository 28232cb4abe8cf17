-- Every record a load did not take, and why: those set aside as they landed (a field the models could not type,
-- an id repeated in one snapshot) and the dead letters the extractor could not read as records, each with what to
-- fix. The records come in one shape from staging.
with

quarantined as (
    select * from {{ ref('stg_meta__quarantined_records') }}
),

-- Copies of one id in one snapshot share every column but their place in the load.
numbered as (
    select
        *,
        row_number() over (
            partition by quarantine_kind, tenant_id, load_id, collection, record_id, field, reason, offending_value
            order by quarantined_at
        ) as copy_number
    from quarantined
),

final as (
    select
        md5(concat_ws(
            '|', quarantine_kind, tenant_id, load_id, collection, record_id, field, reason, offending_value, copy_number
        )) as quarantined_record_id,
        quarantine_kind,
        tenant_id,
        load_id,
        collection,
        record_id,
        field,
        reason,
        offending_value,
        case
            when reason like 'id appears more than once%'
                then 'the source lists this id twice in one snapshot; the first copy was kept'
            when quarantine_kind = 'dead_letter'
                then 'fix the record at the source so it is an object with a string id; the next run reads it'
            else 'fix ' || field || ' of this record at the source; the next run lands it'
        end as fix,
        quarantined_at
    from numbered
)

select * from final
