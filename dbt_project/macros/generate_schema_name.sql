{#- Schemas are named by layer (staging, intermediate, marts) rather than prefixed with the target's schema,
    so analysts query marts.fct_role_access whatever target built it. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
