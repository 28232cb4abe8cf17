{#
    Descriptions become DuckDB comments on the marts (dbt_project.yml: persist_docs). dbt's persist_docs asks each
    mart for its columns (and dbt-duckdb's column comments ask again) to skip documented columns the mart lacks
    with a warning, then runs the table's comment and the columns' as two more queries: for every mart of every
    build, the lookups' agate tables and the round trips cost more than the comments. pimlens documents exactly
    the columns each mart has (the end-to-end suite checks the yaml against the built warehouse), so the comments
    go straight to the documented columns, all in one query: a documented column a mart lacks fails that mart's
    build, naming the column, instead of losing its description with a warning.
#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set comments = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do comments.append(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() -%}
        {%- for column_name, column in model.columns.items() -%}
            {%- set quoted = adapter.quote(column_name) if column['quote'] else column_name -%}
            {%- do comments.append(
                'comment on column ' ~ relation ~ '.' ~ quoted ~ ' is ' ~ duckdb_escape_comment(column['description']) ~ ';'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if comments -%}
        {%- do run_query(comments | join('\n')) -%}
    {%- endif -%}
{%- endmacro %}
