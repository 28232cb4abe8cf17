{#- The rows of a snapshot collection's latest committed load per tenant.
    The latest load is read from meta.loads, not from the raw table, so a collection that is empty today
    shows as empty instead of showing yesterday's rows. A load a raw gate holds is skipped: the latest load that
    passed stands until a later one passes. -#}
{% macro latest_snapshot(table_name) -%}
    select raw_rows.*
    from {{ source('raw', table_name) }} as raw_rows
    inner join (
        select
            tenant_id,
            max(load_id) as load_id
        from {{ source('meta', 'loads') }}
        where
            collection = '{{ table_name }}'
            and load_id not in (select held.load_id from {{ ref('stg_meta__held_loads') }} as held)
        group by tenant_id
    ) as latest
        on raw_rows.tenant_id = latest.tenant_id and raw_rows.load_id = latest.load_id
{%- endmacro %}
