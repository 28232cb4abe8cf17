{#
    Incremental marts downstream of another incremental mart need to know which upstream rows changed since they
    were last built. Every such mart stamps the rows it writes with the dbt invocation's start time
    (`refreshed_at`), and a downstream model takes the upstream rows stamped after the newest stamp in its own
    table. A downstream build that failed simply catches up on the next run: its own newest stamp did not move.
#}

{% macro refreshed_at() -%}
    cast('{{ run_started_at }}' as timestamptz)
{%- endmacro %}

{% macro refreshed_since_last_build(column) -%}
    {{ column }} > (select coalesce(max(built.refreshed_at), '-infinity'::timestamptz) from {{ this }} as built)
{%- endmacro %}
