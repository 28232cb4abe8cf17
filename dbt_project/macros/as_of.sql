{#- The instant every window, expiry horizon and current-state verdict is evaluated at (docs/metrics.md,
    "Evaluation instant"): the dbt var as_of, which the Dagster dbt asset sets from the configuration's as_of,
    PIMLENS_AS_OF or the run's start; else the start of this dbt invocation. -#}
{% macro as_of() -%}
    cast('{{ var("as_of", run_started_at) }}' as timestamptz)
{%- endmacro %}
