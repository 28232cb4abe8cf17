{#- The access state of a PIM assignment schedule instance (docs/metrics.md, "Access row"): one definition for
    the latest, daily and versioned access models. -#}
{% macro access_state(assignment_type, end_at) -%}
    case
        when {{ assignment_type }} = 'Activated' then 'activated'
        when {{ end_at }} is null then 'active_permanent'
        else 'active_time_bound'
    end
{%- endmacro %}
