{#- The keys of one rule of a PIM policy, from a relation with `policy_assignment_id` and the rule as `policy_rule`:
    its id within the policy (rule_name), a key unique across policies, and its kind, which Graph names in
    `@odata.type` and ARM in `ruleType` (`type_key`). -#}
{% macro policy_rule_keys(type_key='@odata.type') -%}
    policy_assignment_id || '/' || (policy_rule ->> 'id') as policy_rule_id,
    policy_rule ->> 'id' as rule_name,
    policy_rule ->> '{{ type_key }}' as rule_type,
{%- endmacro %}
