{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'collection', 'load_id'],
        incremental_strategy='delete+insert',
    )
}}
{%- set collections = versioned_collections() %}
-- What changed in each dated snapshot of the versioned collections, compared with the previous load of the same
-- tenant and collection (load id order, as the versions are): a 'start' row for each record new or changed, an
-- 'end' row for each record gone, and one 'load_compared' row per load, so a load that changed nothing is not
-- compared again. The versions (macro snapshot_history) come from these rows alone: a daily build reads today's
-- snapshot and the one before it, where a window over every stored snapshot grew with every day kept.
-- A load whose id sorts before an already-compared one (tenants and collections land independently, and a load id
-- sorts by when its extraction started, not when it committed) is compared with its predecessor as any new load,
-- and the load after it is compared again, now with it: delete+insert by load replaces that load's old rows, so
-- the changes equal a full rebuild's whatever order loads commit in. Loads are never deleted from the manifest;
-- a retention job that deleted some would have to rebuild this model with --full-refresh.
with

loads as (
    select
        tenant_id,
        collection,
        load_id,
        committed_at,
        lag(load_id) over by_collection as previous_load_id,
        lead(load_id) over by_collection as next_load_id
    from {{ source('meta', 'loads') }}
    where
        collection in (
            {%- for collection in collections %}
                '{{ collection }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
    window by_collection as (partition by tenant_id, collection order by load_id)
),

new_loads as (
    select loads.* from loads
    {% if is_incremental() %}
        where loads.load_id not in (
            select built.load_id from {{ this }} as built
            where built.change_kind = 'load_compared'
        )
    {% endif %}
),

-- The new loads, and the already-compared load right after each one that arrived out of order.
loads_to_compare as (
    select * from new_loads
    union
    select next_load.* from loads as next_load
    inner join new_loads on next_load.load_id = new_loads.next_load_id
),

load_ids_to_read as (
    select load_id from loads_to_compare
    union all
    select previous_load_id from loads_to_compare
),

-- Only the compared loads and their predecessors are read: picked from the small manifest first, so DuckDB prunes
-- the raw tables' row groups by load id.
snapshot_rows as (
    {% for collection in collections %}
        select
            raw_rows.tenant_id,
            '{{ collection }}' as collection,
            raw_rows.load_id,
            raw_rows.id,
            raw_rows.parent_key,
            raw_rows.record
        from {{ source('raw', collection) }} as raw_rows
        where raw_rows.load_id in (select wanted.load_id from load_ids_to_read as wanted)
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

current_rows as (
    select
        snapshot_rows.*,
        compared.committed_at
    from snapshot_rows
    inner join loads_to_compare as compared on snapshot_rows.load_id = compared.load_id
),

-- A load can be both compared and the predecessor of the next compared load: its rows appear in both CTEs.
previous_rows as (
    select
        snapshot_rows.*,
        compared.load_id as compared_load_id,
        compared.committed_at as compared_committed_at
    from snapshot_rows
    inner join loads_to_compare as compared on snapshot_rows.load_id = compared.previous_load_id
),

-- Each compared load's rows beside its predecessor's, in one join: a row only in the compared load, or different
-- there, starts a version; a row only in the predecessor ends one.
changed as (
    select
        coalesce(current_rows.tenant_id, previous_rows.tenant_id) as tenant_id,
        coalesce(current_rows.collection, previous_rows.collection) as collection,
        coalesce(current_rows.load_id, previous_rows.compared_load_id) as load_id,
        coalesce(current_rows.committed_at, previous_rows.compared_committed_at) as committed_at,
        case when current_rows.load_id is null then 'end' else 'start' end as change_kind,
        coalesce(current_rows.id, previous_rows.id) as id,
        coalesce(current_rows.parent_key, previous_rows.parent_key) as parent_key,
        current_rows.record
    from current_rows
    full outer join previous_rows
        on
            current_rows.load_id = previous_rows.compared_load_id
            and current_rows.id = previous_rows.id
            and current_rows.parent_key is not distinct from previous_rows.parent_key
    -- Unchanged rows drop out. The JSON texts are compared as they were landed: exact, and a fifth of the time of
    -- hashing each record first.
    where cast(current_rows.record as varchar) is distinct from cast(previous_rows.record as varchar)
),

compared_loads as (
    select
        tenant_id,
        collection,
        load_id,
        committed_at,
        'load_compared' as change_kind,
        cast(null as varchar) as id,
        cast(null as varchar) as parent_key,
        cast(null as json) as record
    from loads_to_compare
),

unioned as (
    select * from changed
    union all
    select * from compared_loads
),

final as (
    select
        md5(concat_ws('|', tenant_id, collection, load_id, change_kind, id, parent_key)) as snapshot_change_id,
        *
    from unioned
)

select * from final
