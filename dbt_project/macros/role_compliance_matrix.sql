{#- The role x rule compliance matrix: each role's PIM policy settings from `policies` (columns of
    int_role_policies_pivoted, plus `keys`) judged against what its tier in `roles` requires in `requirements`.
    A rule the tier sets no requirement for is not_required, never a pass. -#}
{% macro role_compliance_matrix(roles, policies, requirements, keys=[]) -%}
    select
        matrix.tenant_id,
        matrix.role_definition_id,
        matrix.role_name,
        matrix.tier,
        matrix.policy_id,
        {%- for key in keys %}
        matrix.{{ key }},
        {%- endfor %}
        matrix.check_result.rule as compliance_rule,
        matrix.check_result.expected_value,
        matrix.check_result.actual_value,
        case
            when not matrix.check_result.is_required then 'not_required'
            when matrix.check_result.is_compliant then 'pass'
            else 'fail'
        end as compliance_status,
        matrix.check_result.is_required and not matrix.check_result.is_compliant as is_failure
    from (
        select
            *,
            unnest([
                {
                    'rule': 'approval_required',
                    'expected_value': cast(expects_approval as varchar),
                    'actual_value': cast(is_approval_required as varchar),
                    'is_compliant': not coalesce(expects_approval, false) or is_approval_required,
                    'is_required': expects_approval is not null
                },
                {
                    'rule': 'min_approvers',
                    'expected_value': cast(expects_min_approvers as varchar),
                    'actual_value': cast(approver_count as varchar),
                    'is_compliant': approver_count >= coalesce(expects_min_approvers, 0),
                    'is_required': expects_min_approvers is not null
                },
                {
                    'rule': 'mfa_on_activation',
                    'expected_value': cast(expects_mfa as varchar),
                    'actual_value': cast(is_mfa_required_on_activation as varchar),
                    'is_compliant': not coalesce(expects_mfa, false) or is_mfa_required_on_activation,
                    'is_required': expects_mfa is not null
                },
                {
                    'rule': 'justification_required',
                    'expected_value': cast(expects_justification as varchar),
                    'actual_value': cast(is_justification_required_on_activation as varchar),
                    'is_compliant': not coalesce(expects_justification, false)
                    or is_justification_required_on_activation,
                    'is_required': expects_justification is not null
                },
                {
                    'rule': 'ticket_required',
                    'expected_value': cast(expects_ticket as varchar),
                    'actual_value': cast(is_ticket_required_on_activation as varchar),
                    'is_compliant': not coalesce(expects_ticket, false) or is_ticket_required_on_activation,
                    'is_required': expects_ticket is not null
                },
                {
                    'rule': 'max_activation',
                    'expected_value': cast(expects_max_activation_seconds as varchar),
                    'actual_value': cast(max_activation_seconds as varchar),
                    'is_compliant': expects_max_activation_seconds is null
                    or coalesce(max_activation_seconds <= expects_max_activation_seconds, false),
                    'is_required': expects_max_activation_seconds is not null
                },
                {
                    'rule': 'permanent_eligibility_allowed',
                    'expected_value': cast(expects_permanent_eligibility_allowed as varchar),
                    'actual_value': cast(is_permanent_eligibility_allowed as varchar),
                    'is_compliant': coalesce(expects_permanent_eligibility_allowed, true)
                    or not is_permanent_eligibility_allowed,
                    'is_required': expects_permanent_eligibility_allowed is not null
                },
                {
                    'rule': 'min_activation_notification_recipients',
                    'expected_value': cast(expects_min_notification_recipients as varchar),
                    'actual_value': cast(activation_notification_recipient_count as varchar),
                    'is_compliant': activation_notification_recipient_count
                    >= coalesce(expects_min_notification_recipients, 0),
                    'is_required': expects_min_notification_recipients is not null
                }
            ]) as check_result
        from (
            select
                roles.tenant_id,
                roles.role_definition_id,
                roles.role_name,
                roles.tier,
                policies.policy_id,
                {%- for key in keys %}
                policies.{{ key }},
                {%- endfor %}
                policies.is_approval_required,
                policies.approver_count,
                policies.is_mfa_required_on_activation,
                policies.is_justification_required_on_activation,
                policies.is_ticket_required_on_activation,
                {{ iso8601_duration_seconds('policies.max_activation_duration') }} as max_activation_seconds,
                policies.is_permanent_eligibility_allowed,
                policies.activation_notification_recipient_count,
                requirements.is_approval_required as expects_approval,
                requirements.min_approvers as expects_min_approvers,
                requirements.is_mfa_required_on_activation as expects_mfa,
                requirements.is_justification_required as expects_justification,
                requirements.is_ticket_required as expects_ticket,
                requirements.max_activation_seconds as expects_max_activation_seconds,
                requirements.is_permanent_eligibility_allowed as expects_permanent_eligibility_allowed,
                requirements.min_activation_notification_recipients as expects_min_notification_recipients
            from {{ roles }} as roles
            inner join {{ policies }} as policies
                on
                    roles.tenant_id = policies.tenant_id
                    and roles.role_definition_id = policies.role_definition_id
            left join {{ requirements }} as requirements
                on roles.tier = requirements.tier
        ) as role_settings
    ) as matrix
{%- endmacro %}
