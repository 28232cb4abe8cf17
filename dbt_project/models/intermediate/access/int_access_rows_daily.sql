-- The access rows of int_access_rows_unioned, for every day a run took a snapshot: one row per day x principal
-- x role x scope x state. Same states and same collapsing as the latest-snapshot model.
with

eligibility as (
    select * from {{ ref('stg_graph__role_eligibility_snapshots') }}
),

assignment_instances as (
    select * from {{ ref('stg_graph__role_assignment_instance_snapshots') }}
),

role_assignments as (
    select * from {{ ref('stg_graph__role_assignment_snapshots') }}
),

unioned as (
    select
        tenant_id,
        snapshot_date,
        principal_id,
        role_definition_id,
        directory_scope_id,
        'eligible' as access_state
    from eligibility
    union all
    select
        tenant_id,
        snapshot_date,
        principal_id,
        role_definition_id,
        directory_scope_id,
        case
            when assignment_type = 'Activated' then 'activated'
            when end_at is null then 'active_permanent'
            else 'active_time_bound'
        end as access_state
    from assignment_instances
    union all
    select
        role_assignments.tenant_id,
        role_assignments.snapshot_date,
        role_assignments.principal_id,
        role_assignments.role_definition_id,
        role_assignments.directory_scope_id,
        'outside_pim' as access_state
    from role_assignments
    where not exists (
        select 1
        from assignment_instances
        where
            assignment_instances.tenant_id = role_assignments.tenant_id
            and assignment_instances.snapshot_date = role_assignments.snapshot_date
            and assignment_instances.role_assignment_origin_id = role_assignments.role_assignment_id
    )
),

collapsed as (
    select distinct * from unioned
)

select * from collapsed
