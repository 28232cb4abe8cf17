-- Every way a principal holds a role today, one row per principal x role x scope x state.
with

eligibility as (
    select * from {{ ref('stg_graph__role_eligibility_schedule_instances') }}
),

assignment_instances as (
    select * from {{ ref('stg_graph__role_assignment_schedule_instances') }}
),

role_assignments as (
    select * from {{ ref('stg_graph__role_assignments') }}
),

eligible as (
    select
        tenant_id,
        principal_id,
        role_definition_id,
        directory_scope_id,
        'eligible' as access_state,
        'roleEligibilityScheduleInstances' as source_collection,
        start_at,
        end_at
    from eligibility
),

active as (
    select
        tenant_id,
        principal_id,
        role_definition_id,
        directory_scope_id,
        case
            when assignment_type = 'Activated' then 'activated'
            when end_at is null then 'active_permanent'
            else 'active_time_bound'
        end as access_state,
        'roleAssignmentScheduleInstances' as source_collection,
        start_at,
        end_at
    from assignment_instances
),

-- A role assignment no PIM instance accounts for was made outside PIM (legacy direct assignment).
outside_pim as (
    select
        role_assignments.tenant_id,
        role_assignments.principal_id,
        role_assignments.role_definition_id,
        role_assignments.directory_scope_id,
        'outside_pim' as access_state,
        'roleAssignments' as source_collection,
        cast(null as timestamptz) as start_at,
        cast(null as timestamptz) as end_at
    from role_assignments
    where not exists (
        select 1
        from assignment_instances
        where
            assignment_instances.tenant_id = role_assignments.tenant_id
            and assignment_instances.role_assignment_origin_id = role_assignments.role_assignment_id
    )
),

unioned as (
    select * from eligible
    union all
    select * from active
    union all
    select * from outside_pim
),

-- The same tuple can come from two schedules (say, two time-bound grants); count it once, widest window.
collapsed as (
    select
        tenant_id,
        principal_id,
        role_definition_id,
        directory_scope_id,
        access_state,
        any_value(source_collection) as source_collection,
        min(start_at) as start_at,
        case when count(*) = count(end_at) then max(end_at) end as end_at,
        count(*) as source_rows
    from unioned
    group by all
),

final as (
    select
        md5(
            concat_ws('|', tenant_id, principal_id, role_definition_id, directory_scope_id, access_state)
        ) as access_id,
        *
    from collapsed
)

select * from final
