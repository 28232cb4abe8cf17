-- The tier of what each group grants, one row per tenant and principal holding any directory or Azure role (any
-- state): the highest tier among those roles. For a group, whoever sits in it, or can make themself a member,
-- reaches them; the PIM for Groups policies and expiring memberships are judged by it.
with

access_rows as (
    select * from {{ ref('int_access_rows_classified') }}
),

final as (
    select
        md5(concat_ws('|', tenant_id, principal_id)) as group_tier_id,
        tenant_id,
        principal_id as group_id,
        min(tier) as tier,
        min(tier) in ('tier0', 'tier1') as is_privileged
    from access_rows
    where tier is not null
    group by tenant_id, principal_id
)

select * from final
