{#- SCD type 2 from the extractor's dated snapshots: one row per version of each record of `table_name`.
    A version starts at the load where the record first appears with that content and ends at the first
    later load where it is gone or different (valid_from and valid_to are those loads' commit times; valid_to
    is null while the version is current). Built from the changes between successive snapshots
    (int_snapshot_changes) rather than dbt snapshots, so history exists from the first run and reruns change
    nothing; and from the changes alone, so its cost follows how often records change, not how many days are kept. -#}
{#- The snapshot collections int_snapshot_changes compares, and so the only ones snapshot_history can version. -#}
{% macro versioned_collections() -%}
    {{ return([
        'role_assignment_schedule_instances',
        'role_eligibility_schedule_instances',
        'role_management_policy_assignments',
    ]) }}
{%- endmacro %}

{% macro snapshot_history(table_name) -%}
    {%- if table_name not in versioned_collections() -%}
        {{ exceptions.raise_compiler_error(
            "snapshot_history('" ~ table_name ~ "'): add the collection to versioned_collections() in "
            ~ "macros/snapshot_history.sql, or int_snapshot_changes never compares its snapshots"
        ) }}
    {%- endif %}
    with

    changes as (
        select * from {{ ref('int_snapshot_changes') }}
        where collection = '{{ table_name }}' and change_kind in ('start', 'end')
    ),

    -- Each start is a version, ended by the record's next change: a new start (changed) or an end (gone).
    bounded as (
        select
            *,
            lead(committed_at) over (partition by tenant_id, id, parent_key order by load_id) as valid_to
        from changes
    )

    select
        tenant_id,
        id,
        parent_key,
        row_number() over (partition by tenant_id, id, parent_key order by load_id) as version_number,
        record,
        committed_at as valid_from,
        valid_to
    from bounded
    where change_kind = 'start'
{%- endmacro %}
