{#- The lifecycle steps (seed pim_audit_activities) an activation request folds together, from the request to the
    end of the activation: what fold_activation_requests reads, and what fct_unreadable_inputs checks for a request id. -#}
{% macro activation_lifecycle_steps() -%}
    ('requested', 'approval_requested', 'approved', 'denied', 'expired', 'canceled', 'activated', 'activation_ended')
{%- endmacro %}
