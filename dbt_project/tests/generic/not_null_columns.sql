{#- Every listed column of the model is filled, checked in one scan. dbt's not_null runs one query per column
    (on a view, one rebuild of the view per column), and those per-node costs were a third of a daily build's
    test time. One result row per column that has nulls, with how many. -#}
{% test not_null_columns(model, columns) %}
    select
        column_name,
        null_rows
    from (
        select unnest(counts, recursive := true)
        from (
            select [
                {%- for column in columns %}
                    {'column_name': '{{ column }}', 'null_rows': count(*) filter (where {{ adapter.quote(column) }} is null)}
                    {{- "," if not loop.last }}
                {%- endfor %}
            ] as counts
            from {{ model }}
        )
    )
    where null_rows > 0
{% endtest %}
