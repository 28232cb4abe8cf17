{#- A model's column checks in one test node: keys unique (across the table, or inside each tenant: Graph ids
    repeat across tenants, built-in role ids everywhere), columns filled, and columns holding only accepted
    values. dbt's own tests are one node per column and rule; the fixed cost of ~170 such nodes was about half of
    a daily build's dbt time, most of it dbt's, not DuckDB's (docs/benchmarks.md). Each failure is one result
    row: the check, the column, what failed (the unexpected values, or the repeated key) and how many rows.

    unique, unique_per_tenant: keys, each a column name or a list of names that are unique together; not_null:
    column names; accepted_values: column name -> values (compared as text, nulls allowed, as in dbt's
    accepted_values). Fill and value checks share one scan of the model. -#}
{% test model_checks(model, unique=[], unique_per_tenant=[], not_null=[], accepted_values={}) %}
    {%- if not (unique or unique_per_tenant or not_null or accepted_values) -%}
        {{ exceptions.raise_compiler_error("model_checks on " ~ model ~ " names no column to check") }}
    {%- endif -%}
    {#- (check, column, condition a failing row meets) for the checks counted in the single scan -#}
    {%- set counted = [] -%}
    {%- for column in not_null -%}
        {%- do counted.append(('not_null', column, adapter.quote(column) ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set unexpected -%}
            {{ adapter.quote(column) }} is not null and cast({{ adapter.quote(column) }} as varchar) not in (
                {%- for value in values %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
            )
        {%- endset -%}
        {%- do counted.append(('accepted_values', column, unexpected)) -%}
    {%- endfor %}

    select
        null::varchar as check_name,
        null::varchar as column_name,
        null::varchar as detail,
        null::bigint as failing_rows
    where false
    {%- if counted %}
        union all
        select * from (
            select unnest(counts, recursive := true)
            from (
                select [
                    {%- for check_name, column, failing in counted %}
                        {
                            'check_name': '{{ check_name }}',
                            'column_name': '{{ column }}',
                            'detail': {% if check_name == 'accepted_values' -%}
                                array_to_string(list_sort(
                                    list(distinct cast({{ adapter.quote(column) }} as varchar)) filter (where {{ failing }})
                                ), ', ')
                            {%- else %}null::varchar{% endif %},
                            'failing_rows': count(*) filter (where {{ failing }})
                        }{{ "," if not loop.last }}
                    {%- endfor %}
                ] as counts
                from {{ model }}
            )
        )
        where failing_rows > 0
    {%- endif %}
    {#- A key is a column, or a list of columns that together are unique; unique_per_tenant adds tenant_id. -#}
    {%- set keys = [] -%}
    {%- for key in unique -%}
        {%- do keys.append(('unique', [], [key] if key is string else key)) -%}
    {%- endfor -%}
    {%- for key in unique_per_tenant -%}
        {%- do keys.append(('unique_per_tenant', ['tenant_id'], [key] if key is string else key)) -%}
    {%- endfor -%}
    {%- for check_name, scope, key in keys -%}
        {%- set columns = scope + key -%}
        {%- set key_columns -%}
            {%- for column in columns %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor -%}
        {%- endset -%}
        {%- set key_filled -%}
            {%- for column in key %}{{ adapter.quote(column) }} is not null{{ " and " if not loop.last }}{% endfor -%}
        {%- endset %}
        {#- Repeats are looked for among the keys' 64-bit hashes first: grouping 34M hashes took half the time of
            grouping the 34M text keys. Only keys whose hash repeats are then grouped as text, so a collision of
            two different keys is never reported. #}
        union all
        select * from (
            with repeated_hashes as (
                select hash({{ key_columns }}) as key_hash
                from {{ model }}
                where {{ key_filled }}
                group by key_hash
                having count(*) > 1
            )

            select
                '{{ check_name }}',
                '{{ key | join(', ') }}',
                concat_ws(' ', {% for column in columns %}cast({{ adapter.quote(column) }} as varchar){{ ", " if not loop.last }}{% endfor %}),
                count(*)
            from {{ model }}
            where {{ key_filled }} and hash({{ key_columns }}) in (select repeated_hashes.key_hash from repeated_hashes)
            group by {{ key_columns }}
            having count(*) > 1
        )
    {%- endfor %}
{% endtest %}
