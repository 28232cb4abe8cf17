-- The loads a raw gate blocked and no operator released: the models read none of their rows.
with

source as (
    select * from {{ source('meta', 'gate_verdicts') }}
),

latest as (
    select *
    from source
    qualify row_number() over (partition by load_id, gate order by decided_at desc) = 1
),

held as (
    select
        load_id,
        tenant_id,
        collection,
        gate,
        detail,
        decided_at
    from latest
    where verdict = 'blocked'
),

final as (
    select
        md5(concat_ws('|', load_id, gate)) as held_load_id,
        *
    from held
)

select * from final
