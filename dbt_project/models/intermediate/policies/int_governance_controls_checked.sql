-- The controls of PIM role settings, as rows of fct_controls_coverage (docs/metrics.md, "Controls coverage"):
-- activation_authentication_context for each privileged directory role whose PIM policy asks for an authentication
-- context on activation (AuthenticationContext_EndUser_Assignment enabled), met when an enabled Conditional Access
-- policy targets that context (report-only and disabled policies enforce nothing); approver_exists and
-- approver_enabled for each approver of each directory role whose activation needs approval (groups resolved to
-- their members, int_role_policy_approvers).
with

context_rules as (
    select * from {{ ref('stg_graph__role_management_policy_rules') }}
    where rule_name = 'AuthenticationContext_EndUser_Assignment'
),

roles as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

policy_contexts as (
    select * from {{ ref('stg_graph__conditional_access_authentication_contexts') }}
),

approvers as (
    select * from {{ ref('int_role_policy_approvers') }}
),

activation_contexts as (
    select distinct
        context_rules.tenant_id,
        context_rules.role_definition_id,
        context_rules.policy_rule ->> 'claimValue' as claim_value
    from context_rules
    inner join roles
        on
            context_rules.tenant_id = roles.tenant_id
            and context_rules.role_definition_id = roles.role_definition_id
    where roles.is_privileged and coalesce(try_cast(context_rules.policy_rule ->> 'isEnabled' as boolean), false)
),

context_rows as (
    select
        activation_contexts.tenant_id,
        'activation_authentication_context' as control,
        activation_contexts.role_definition_id,
        null as user_id,
        null as approver_group_id,
        count(policy_contexts.policy_id) > 0 as is_met,
        'context ' || activation_contexts.claim_value || ': ' || coalesce(
            string_agg(policy_contexts.policy_name, ', ' order by policy_contexts.policy_name),
            'no enabled Conditional Access policy targets it'
        ) as evidence
    from activation_contexts
    left join policy_contexts
        on
            activation_contexts.tenant_id = policy_contexts.tenant_id
            and activation_contexts.claim_value = policy_contexts.claim_value
            and policy_contexts.is_enabled
    group by activation_contexts.tenant_id, activation_contexts.role_definition_id, activation_contexts.claim_value
),

approver_rows as (
    select
        tenant_id,
        'approver_exists' as control,
        role_definition_id,
        user_id,
        approver_group_id,
        -- A group approver without a known member: gone or empty (not met), or a plain group whose members are not
        -- read: unknown (null), never a pass, as pim-rules.md rule 22 asks of what was not read.
        case
            when user_id is not null then is_existing
            when is_group_existing and not are_group_members_read then null
            else false
        end as is_met,
        case
            when user_id is not null then null
            when not is_group_existing then 'the group does not exist'
            when are_group_members_read then 'no member of the group is known'
            else 'the group exists; its members are not read (not a role-assignable group)'
        end as evidence
    from approvers
    union all
    select
        tenant_id,
        'approver_enabled' as control,
        role_definition_id,
        user_id,
        approver_group_id,
        is_enabled as is_met,
        null as evidence
    from approvers
    -- A missing user fails approver_exists only: one problem, one failure.
    where user_id is not null and is_existing
),

unioned as (
    select * from context_rows
    union all
    select * from approver_rows
),

final as (
    select
        md5(concat_ws('|', tenant_id, control, user_id, role_definition_id, approver_group_id)) as policy_control_id,
        *
    from unioned
)

select * from final
