{#- The instant every window, expiry horizon and current-state verdict is evaluated at (docs/metrics.md,
    "Evaluation instant"): what `pimlens-dbt --as-of` was given (the Dagster dbt asset gives the configuration's as_of,
    PIMLENS_AS_OF or the run's start); else the start of this dbt invocation. An environment variable, not a dbt
    var: a var that changes makes dbt parse the whole project again (pipelines/lib/dbt_child.py). -#}
{% macro as_of() -%}
    cast('{{ env_var("PIMLENS_DBT_AS_OF", run_started_at | string) }}' as timestamptz)
{%- endmacro %}
