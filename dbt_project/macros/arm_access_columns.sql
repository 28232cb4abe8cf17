{#- The columns every ARM Microsoft.Authorization access object shares (graph-pim.md section 5): who, which role (its
    definition's GUID, the same at every scope), and where (the ARM scope, in the column the directory models call
    directory_scope_id); with `schedule`, also what PIM's schedule instances add: the role's name from
    expandedProperties, the member type and the window. -#}
{% macro arm_access_columns(schedule=true) -%}
    record -> 'properties' ->> 'principalId' as principal_id,
    record -> 'properties' ->> 'principalType' as principal_type,
    lower(regexp_extract(record -> 'properties' ->> 'roleDefinitionId', '[^/]+$')) as role_definition_id,
    record -> 'properties' ->> 'scope' as directory_scope_id,
    {%- if schedule %}
    record -> '$.properties.expandedProperties.roleDefinition' ->> 'displayName' as role_name,
    record -> 'properties' ->> 'memberType' as member_type,
    try_cast(record -> 'properties' ->> 'startDateTime' as timestamptz) as start_at,
    try_cast(record -> 'properties' ->> 'endDateTime' as timestamptz) as end_at,
    {%- endif %}
{%- endmacro %}
