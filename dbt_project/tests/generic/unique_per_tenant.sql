{#- Graph ids are unique only inside one tenant (built-in role ids are the same everywhere), so keys are
    tested per tenant. -#}
{% test unique_per_tenant(model, column_name) %}
    select
        tenant_id,
        {{ column_name }},
        count(*) as occurrences
    from {{ model }}
    where {{ column_name }} is not null
    group by tenant_id, {{ column_name }}
    having count(*) > 1
{% endtest %}
