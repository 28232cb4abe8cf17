{#- Every day's last committed load of a snapshot collection per tenant, with the day as snapshot_date (UTC):
    the history behind the daily marts. A day without a run has no snapshot; a load a raw gate holds is skipped. -#}
{% macro daily_snapshots(table_name) -%}
    select
        raw_rows.*,
        daily.snapshot_date
    from {{ source('raw', table_name) }} as raw_rows
    inner join (
        select
            tenant_id,
            {{ snapshot_day('committed_at') }} as snapshot_date,
            arg_max(load_id, committed_at) as load_id
        from {{ source('meta', 'loads') }}
        where
            collection = '{{ table_name }}'
            and load_id not in (select held.load_id from {{ ref('stg_meta__held_loads') }} as held)
        group by all
    ) as daily
        on raw_rows.tenant_id = daily.tenant_id and raw_rows.load_id = daily.load_id
{%- endmacro %}

{#- The snapshot day of a load: the UTC day it committed. Every model that dates by snapshot day uses this one
    definition, so a load's day is the same wherever it is compared. -#}
{% macro snapshot_day(committed_at) -%}
    cast(timezone('UTC', {{ committed_at }}) as date)
{%- endmacro %}
