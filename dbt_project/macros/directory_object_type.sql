{#- The kind of a directoryObject in a members list, from its @odata.type: user, group, service_principal,
    device, else unknown. -#}
{% macro directory_object_type(record) -%}
    case {{ record }} ->> '@odata.type'
        when '#microsoft.graph.user' then 'user'
        when '#microsoft.graph.group' then 'group'
        when '#microsoft.graph.servicePrincipal' then 'service_principal'
        when '#microsoft.graph.device' then 'device'
        else 'unknown'
    end
{%- endmacro %}
