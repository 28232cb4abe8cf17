{#- The access state of a PIM assignment schedule instance (docs/metrics.md, "Access row"): one definition for
    the latest, daily and versioned access models. -#}
{% macro access_state(assignment_type, end_at) -%}
    case
        when {{ assignment_type }} = 'Activated' then 'activated'
        when {{ end_at }} is null then 'active_permanent'
        else 'active_time_bound'
    end
{%- endmacro %}

{#- Standing access (docs/metrics.md): held without an activation. -#}
{% macro standing_access_states(access_state) -%}
    {{ access_state }} in ('active_permanent', 'active_time_bound', 'outside_pim')
{%- endmacro %}
