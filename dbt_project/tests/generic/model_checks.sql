{#- A model's column checks in one test node: keys unique (across the table, or inside each tenant: Graph ids
    repeat across tenants, built-in role ids everywhere), columns filled, and columns holding only accepted
    values. dbt's own tests are one node per column and rule; the fixed cost of ~170 such nodes was about half of
    a daily build's dbt time, most of it dbt's, not DuckDB's (docs/benchmarks.md). Each failure is one result
    row: the check, the column, what failed (the unexpected values, or the repeated key) and how many rows.

    unique, unique_per_tenant, not_null: column names; accepted_values: column name -> values (compared as text,
    nulls allowed, as in dbt's accepted_values). Fill and value checks share one scan of the model. -#}
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
    {%- for column in unique %}
        union all
        select 'unique', '{{ column }}', cast({{ adapter.quote(column) }} as varchar), count(*)
        from {{ model }}
        where {{ adapter.quote(column) }} is not null
        group by {{ adapter.quote(column) }}
        having count(*) > 1
    {%- endfor %}
    {%- for column in unique_per_tenant %}
        union all
        select 'unique_per_tenant', '{{ column }}', tenant_id || ' ' || cast({{ adapter.quote(column) }} as varchar), count(*)
        from {{ model }}
        where {{ adapter.quote(column) }} is not null
        group by tenant_id, {{ adapter.quote(column) }}
        having count(*) > 1
    {%- endfor %}
{% endtest %}
