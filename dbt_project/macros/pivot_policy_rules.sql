{#- The compliance-relevant settings of PIM policies, one row per tenant, role and `keys` (for example the
    valid_from and valid_to of a policy version), from a relation of policy rules with the columns of
    stg_graph__role_management_policy_rules. -#}
{% macro pivot_policy_rules(rules, keys=[]) -%}
    select
        tenant_id,
        role_definition_id,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        any_value(policy_id) as policy_id,
        coalesce(
            bool_or(
                rule_name = 'Approval_EndUser_Assignment'
                and try_cast(policy_rule ->> '$.setting.isApprovalRequired' as boolean)
            ),
            false
        ) as is_approval_required,
        coalesce(
            bool_or(
                (
                    rule_name = 'Enablement_EndUser_Assignment'
                    and list_contains(try_cast(policy_rule -> 'enabledRules' as varchar[]), 'MultiFactorAuthentication')
                )
                or (
                    rule_name = 'AuthenticationContext_EndUser_Assignment'
                    and try_cast(policy_rule ->> 'isEnabled' as boolean)
                )
            ),
            false
        ) as is_mfa_required_on_activation,
        coalesce(
            bool_or(
                rule_name = 'Enablement_EndUser_Assignment'
                and list_contains(try_cast(policy_rule -> 'enabledRules' as varchar[]), 'Justification')
            ),
            false
        ) as is_justification_required_on_activation,
        coalesce(
            bool_or(
                rule_name = 'Enablement_EndUser_Assignment'
                and list_contains(try_cast(policy_rule -> 'enabledRules' as varchar[]), 'Ticketing')
            ),
            false
        ) as is_ticket_required_on_activation,
        any_value(policy_rule ->> 'maximumDuration') filter (
            where rule_name = 'Expiration_EndUser_Assignment'
        ) as max_activation_duration,
        coalesce(
            bool_or(
                rule_name = 'Expiration_Admin_Eligibility'
                and not try_cast(policy_rule ->> 'isExpirationRequired' as boolean)
            ),
            false
        ) as is_permanent_eligibility_allowed,
        -- Approvers of the first stage, counted only where approval is switched on.
        coalesce(
            max(
                case
                    when
                        rule_name = 'Approval_EndUser_Assignment'
                        and try_cast(policy_rule ->> '$.setting.isApprovalRequired' as boolean)
                        then json_array_length(policy_rule -> '$.setting.approvalStages[0].primaryApprovers')
                end
            ),
            0
        ) as approver_count,
        -- Extra recipients of the "role activated" mail to admins (Notification_Admin_EndUser_Assignment).
        coalesce(
            max(
                case
                    when rule_name = 'Notification_Admin_EndUser_Assignment'
                        then json_array_length(policy_rule -> 'notificationRecipients')
                end
            ),
            0
        ) as activation_notification_recipient_count
    from {{ rules }}
    group by tenant_id, role_definition_id
    {%- for key in keys %}, {{ key }}{% endfor %}
{%- endmacro %}
