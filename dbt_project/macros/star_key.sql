{#- The single-column surrogate key of the star schema (models/marts/star): a BIGINT from the first 60 bits of the
    MD5 of the natural key's parts, so the same row keeps the same key from build to build and BI relationships
    join on one integer column. -#}
{% macro star_key(parts) -%}
    cast('0x' || left(md5(concat_ws('|', {{ parts | join(', ') }})), 15) as bigint)
{%- endmacro %}

{#- The date_key of a date: the integer yyyymmdd (dim_date.date_key); a UTC time stamp's day via snapshot_day. -#}
{% macro star_date_key(date_expression) -%}
    cast(strftime({{ date_expression }}, '%Y%m%d') as integer)
{%- endmacro %}

{#- The role_key of a role of a role system (dim_role): a directory role keeps the key of its tenant and role
    definition id, as before Azure roles joined the dimension; a role of another system (azure, pim_group) has the
    system in its natural key, so no id of one system can take the key of another's. -#}
{% macro star_role_key(tenant_id, role_system, role_definition_id) -%}
    case
        when {{ role_system }} = 'entra' then {{ star_key([tenant_id, role_definition_id]) }}
        else {{ star_key([tenant_id, role_system, role_definition_id]) }}
    end
{%- endmacro %}
