-- Every audit event that changed who holds a directory role, with the kind of access it changed and by how much
-- (seed audit_access_changes): what fct_access_trend_daily replays backwards from the first snapshot. Only PIM's own
-- successful rows on directory roles: Core Directory's mirror of the same write would count it twice, and PIM for
-- Groups and Azure resources are other surfaces (graph-pim-real-world.md sections 2 and 3).
-- PIM's alert scanner writes `Add member to role outside of PIM (permanent)` again about every two hours for a
-- standing assignment (section 0.8): only the first row of a principal and role is the assignment, and only when it
-- comes later than a rescan could after the log's first event; earlier, it is a rescan of an assignment older than
-- the log.
with

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

access_changes as (
    select * from {{ ref('audit_access_changes') }}
),

coverage as (
    select
        tenant_id,
        min(activity_at) as covered_from_at
    from audits
    group by tenant_id
),

changing_rows as (
    select
        audits.tenant_id,
        audits.audit_event_id,
        audits.activity_at,
        audits.activity_display_name,
        audits.principal_id,
        audits.role_definition_id,
        access_changes.access_kind,
        access_changes.access_delta,
        audits.activity_display_name = 'Add member to role outside of PIM (permanent)' as is_outside_pim_row
    from audits
    inner join access_changes
        on audits.activity_display_name = access_changes.activity_display_name
    where
        audits.logged_by_service = 'PIM'
        and audits.result = 'success'
        and audits.surface = 'directory_role'
),

first_outside_pim_rows as (
    select changing_rows.*
    from changing_rows
    where changing_rows.is_outside_pim_row
    qualify row_number() over (
        partition by changing_rows.tenant_id, changing_rows.principal_id, changing_rows.role_definition_id
        order by changing_rows.activity_at, changing_rows.audit_event_id
    ) = 1
),

outside_pim_additions as (
    select first_outside_pim_rows.*
    from first_outside_pim_rows
    inner join coverage
        on first_outside_pim_rows.tenant_id = coverage.tenant_id
    where first_outside_pim_rows.activity_at > coverage.covered_from_at + {{ outside_pim_rescan_interval() }}
),

changes as (
    select * from changing_rows
    where not is_outside_pim_row
    union all
    select * from outside_pim_additions
),

final as (
    select
        tenant_id,
        audit_event_id,
        activity_at,
        activity_display_name,
        principal_id,
        role_definition_id,
        access_kind,
        access_delta
    from changes
)

select * from final
