-- Expiring access (docs/metrics.md, "Expiring access and deactivations"): every eligibility and time-bound
-- assignment, directory, Azure and PIM for Groups, that ends within the design's horizon after the evaluation
-- instant: one row per access row (per membership for groups), with the days left. Activations are not here: they
-- end within hours by design.
with

access_rows as (
    select * from {{ ref('int_access_rows_classified') }}
),

group_eligibility as (
    select * from {{ ref('stg_graph__pim_group_eligibility_instances') }}
),

group_assignments as (
    select * from {{ ref('stg_graph__pim_group_assignment_instances') }}
),

group_tiers as (
    select * from {{ ref('int_group_tiers_granted') }}
),

horizon as (
    select * from {{ ref('stg_design__expiring_access') }}
),

ending as (
    select
        role_system,
        tenant_id,
        principal_id,
        role_definition_id,
        role_name,
        tier,
        is_privileged_role,
        directory_scope_id,
        access_state,
        end_at
    from access_rows
    where access_state in ('eligible', 'active_time_bound')
    -- PIM for Groups: the role is the access (member, owner), the scope the group, the tier what the group grants.
    union all
    select
        'pim_group' as role_system,
        memberships.tenant_id,
        memberships.principal_id,
        memberships.group_access as role_definition_id,
        memberships.group_access as role_name,
        coalesce(group_tiers.tier, 'tier2') as tier,
        coalesce(group_tiers.is_privileged, false) as is_privileged_role,
        memberships.group_id as directory_scope_id,
        memberships.access_state,
        memberships.end_at
    from (
        select
            tenant_id,
            principal_id,
            group_id,
            group_access,
            'eligible' as access_state,
            end_at
        from group_eligibility
        union all
        select
            tenant_id,
            principal_id,
            group_id,
            group_access,
            'active_time_bound' as access_state,
            end_at
        from group_assignments
        where assignment_type = 'assigned'
    ) as memberships
    left join group_tiers
        on
            memberships.tenant_id = group_tiers.tenant_id
            and memberships.group_id = group_tiers.group_id
),

final as (
    select
        md5(concat_ws(
            '|',
            ending.tenant_id,
            ending.role_system,
            ending.principal_id,
            ending.role_definition_id,
            ending.directory_scope_id,
            ending.access_state,
            cast(ending.end_at as varchar)
        )) as expiring_access_id,
        ending.*,
        datediff('second', {{ as_of() }}, ending.end_at) / 86400.0 as days_left,
        {{ as_of() }} as as_of_at
    from ending
    cross join horizon
    where
        ending.end_at > {{ as_of() }}
        and ending.end_at <= {{ as_of() }} + to_days(horizon.horizon_days)
)

select * from final
