-- Each primary approver of every approval stage of each directory role whose activation needs approval
-- (Approval_EndUser_Assignment), resolved to users: a `#microsoft.graph.singleUser` approver is its userId; a
-- `#microsoft.graph.groupMembers` approver is each user among the group's transitive members (the warehouse reads
-- them for role-assignable groups only), or one row without a user when it has none, is gone, or is a plain group
-- (members not read: PIM approver groups are often plain security groups). Other kinds of approver are not
-- resolved. One row per role, listed approver and user, with whether that user exists and is enabled, and for a
-- group approver whether the group exists and its members were read.
with

rules as (
    select * from {{ ref('stg_graph__role_management_policy_rules') }}
    where rule_name = 'Approval_EndUser_Assignment'
),

memberships as (
    select * from {{ ref('stg_graph__group_transitive_members') }}
    where member_type = 'user'
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

groups as (
    select * from {{ ref('stg_graph__groups') }}
),

stages as (
    select
        tenant_id,
        role_definition_id,
        unnest(coalesce(try_cast(policy_rule -> '$.setting.approvalStages' as json[]), [])) as approval_stage
    from rules
    where coalesce(try_cast(policy_rule ->> '$.setting.isApprovalRequired' as boolean), false)
),

listed as (
    select
        tenant_id,
        role_definition_id,
        unnest(coalesce(try_cast(approval_stage -> 'primaryApprovers' as json[]), [])) as approver
    from stages
),

approvers as (
    select distinct
        tenant_id,
        role_definition_id,
        case approver ->> '@odata.type'
            when '#microsoft.graph.singleUser' then 'user'
            when '#microsoft.graph.groupMembers' then 'group'
        end as approver_kind,
        coalesce(approver ->> 'userId', approver ->> 'groupId') as approver_id
    from listed
    where approver ->> '@odata.type' in ('#microsoft.graph.singleUser', '#microsoft.graph.groupMembers')
),

resolved as (
    select
        approvers.tenant_id,
        approvers.role_definition_id,
        approvers.approver_kind,
        approvers.approver_id,
        case when approvers.approver_kind = 'group' then approvers.approver_id end as approver_group_id,
        case
            when approvers.approver_kind = 'user' then approvers.approver_id else memberships.member_id
        end as user_id
    from approvers
    left join memberships
        on
            approvers.approver_kind = 'group'
            and approvers.tenant_id = memberships.tenant_id
            and approvers.approver_id = memberships.group_id
),

final as (
    select
        md5(
            concat_ws('|', resolved.tenant_id, resolved.role_definition_id, resolved.approver_id, resolved.user_id)
        ) as role_approver_id,
        resolved.tenant_id,
        resolved.role_definition_id,
        resolved.approver_kind,
        resolved.approver_id,
        resolved.approver_group_id,
        resolved.user_id,
        users.user_id is not null as is_existing,
        coalesce(users.is_account_enabled, false) as is_enabled,
        case when resolved.approver_group_id is not null then groups.group_id is not null end as is_group_existing,
        case when resolved.approver_group_id is not null then coalesce(groups.is_assignable_to_role, false) end
            as are_group_members_read
    from resolved
    left join users
        on
            resolved.tenant_id = users.tenant_id
            and resolved.user_id = users.user_id
    left join groups
        on
            resolved.tenant_id = groups.tenant_id
            and resolved.approver_group_id = groups.group_id
)

select * from final
