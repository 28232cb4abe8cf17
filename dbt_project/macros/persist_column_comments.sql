{#
    Column descriptions become DuckDB comments on the marts (dbt_project.yml: persist_docs). dbt-duckdb's version
    first asks the table for its columns and skips the documented ones it lacks, a query and its agate table for
    every mart of every build. pimlens documents exactly the columns each mart has (the end-to-end suite checks the
    yaml against the built warehouse), so each comment goes straight to its column: a documented column a mart
    lacks fails that mart's build, naming the column, instead of losing its description silently.
#}
{% macro duckdb__alter_column_comment(relation, column_dict) %}
  {% for column_name in column_dict %}
    {% set comment = column_dict[column_name]['description'] %}
    {% set escaped_comment = duckdb_escape_comment(comment) %}
    comment on column {{ relation }}.{{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} is {{ escaped_comment }};
  {% endfor %}
{% endmacro %}
