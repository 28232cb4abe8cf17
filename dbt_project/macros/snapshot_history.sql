{#- SCD type 2 from the extractor's dated snapshots: one row per version of each record of `table_name`.
    A version starts at the load where the record first appears with that content and ends at the first
    later load where it is gone or different. valid_to is null while the version is current. Built from the
    raw snapshots rather than dbt snapshots, so history exists from the first run and reruns change nothing. -#}
{% macro snapshot_history(table_name) -%}
    with

    loads as (
        select
            tenant_id,
            load_id,
            committed_at,
            row_number() over (partition by tenant_id order by load_id) as load_sequence
        from {{ source('meta', 'loads') }}
        where collection = '{{ table_name }}'
    ),

    snapshot_rows as (
        select
            raw_rows.tenant_id,
            raw_rows.id,
            raw_rows.parent_key,
            raw_rows.record,
            md5(cast(raw_rows.record as varchar)) as record_hash,
            loads.load_sequence,
            loads.committed_at
        from {{ source('raw', table_name) }} as raw_rows
        inner join loads
            on raw_rows.tenant_id = loads.tenant_id and raw_rows.load_id = loads.load_id
    ),

    compared as (
        select
            *,
            -- A new version starts when the record was absent from the previous load or has changed.
            coalesce(
                lag(load_sequence) over by_record = load_sequence - 1
                and lag(record_hash) over by_record = record_hash,
                false
            ) as continues_previous
        from snapshot_rows
        window by_record as (partition by tenant_id, id, parent_key order by load_sequence)
    ),

    numbered as (
        select
            *,
            sum(case when continues_previous then 0 else 1 end) over (
                partition by tenant_id, id, parent_key order by load_sequence
            ) as version_number
        from compared
    ),

    versions as (
        select
            tenant_id,
            id,
            parent_key,
            version_number,
            any_value(record) as record,
            min(load_sequence) as first_load_sequence,
            max(load_sequence) as last_load_sequence,
            min(committed_at) as valid_from
        from numbered
        group by tenant_id, id, parent_key, version_number
    )

    select
        versions.tenant_id,
        versions.id,
        versions.parent_key,
        versions.version_number,
        versions.record,
        versions.valid_from,
        next_load.committed_at as valid_to
    from versions
    left join loads as next_load
        on
            versions.tenant_id = next_load.tenant_id
            and versions.last_load_sequence + 1 = next_load.load_sequence
{%- endmacro %}
