{#
    dbt-duckdb's delete+insert deletes with `delete ... using <new rows> where <keys match>` when unique_key is a
    list. That is a join: with a key of (tenant, month) every stored row of a month matches every new row of it,
    and a daily rebuild of one month took 22 s at 1M requests. dbt's own default, a semi-join on the distinct new
    keys, deletes the same rows in a fraction of a second, and for a single key it is what dbt-duckdb does too.
#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {{ default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
