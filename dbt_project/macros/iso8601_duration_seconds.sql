{#- Whole seconds of an ISO-8601 duration such as PT8H, P1DT2H or PT30M (DuckDB cannot cast these to interval);
    null when the text is not such a duration. -#}
{% macro iso8601_duration_seconds(expression) -%}
    {%- set pattern = "'^P(?:(\\d+)D)?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+)S)?)?$'" -%}
    case
        when regexp_full_match({{ expression }}, {{ pattern }})
            then
                coalesce(cast(nullif(regexp_extract({{ expression }}, {{ pattern }}, 1), '') as bigint), 0) * 86400
                + coalesce(cast(nullif(regexp_extract({{ expression }}, {{ pattern }}, 2), '') as bigint), 0) * 3600
                + coalesce(cast(nullif(regexp_extract({{ expression }}, {{ pattern }}, 3), '') as bigint), 0) * 60
                + coalesce(cast(nullif(regexp_extract({{ expression }}, {{ pattern }}, 4), '') as bigint), 0)
    end
{%- endmacro %}
