-- What pimlens could not understand, per tenant and check: how many input rows each check found unreadable, out of
-- how many, and whether that is more than the design's share (unreadable_inputs.max_unreadable_share). Above it, every
-- metric the check feeds (seed metric_quality_checks) reads as unknown in fct_headline_metrics; at or below it the
-- metric is computed from the rows understood and this mart says what was left out and why.
with

coverage as (
    select * from {{ ref('stg_meta__coverage') }}
),

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

audit_activities as (
    select * from {{ ref('pim_audit_activities') }}
),

access_rows as (
    select * from {{ ref('int_access_rows_unioned') }}
),

roles as (
    select * from {{ ref('int_role_definitions_resolved') }}
),

policies as (
    select * from {{ ref('stg_graph__role_management_policy_assignments') }}
),

design as (
    select * from {{ ref('stg_design__unreadable_inputs') }}
),

tenants as (
    select distinct tenant_id from coverage
),

-- PIM rows of an activation's lifecycle that carry no request id under any of its names: they cannot be folded
-- into a request.
lifecycle_rows as (
    select
        audits.tenant_id,
        count(*) as rows_total,
        count(*) filter (where audits.request_id is null) as rows_not_understood
    from audits
    inner join audit_activities
        on audits.activity_display_name = audit_activities.activity_display_name
    where
        audits.surface = 'directory_role'
        and audit_activities.lifecycle_step in {{ activation_lifecycle_steps() }}
    group by audits.tenant_id
),

-- Access rows whose role id no catalogue knows (kept as "unknown role <id>" in dim_roles).
access_role_rows as (
    select
        access_rows.tenant_id,
        count(*) as rows_total,
        count(*) filter (where roles.is_unknown_role) as rows_not_understood
    from access_rows
    left join roles
        on
            access_rows.tenant_id = roles.tenant_id
            and access_rows.role_definition_id = roles.role_definition_id
    group by access_rows.tenant_id
),

-- Policy assignments that came without rules: a policy whose settings were not read, not one that requires nothing.
policy_rows as (
    select
        tenant_id,
        count(*) as rows_total,
        count(*) filter (where rule_count = 0) as rows_not_understood
    from policies
    group by tenant_id
),

checks as (
    select
        tenants.tenant_id,
        'activation_rows_without_request_id' as quality_check,
        'PIM activation lifecycle rows with no RoleAssignmentRequestId, RequestId or Request target' as reason,
        lifecycle_rows.rows_total,
        lifecycle_rows.rows_not_understood
    from tenants
    left join lifecycle_rows
        on tenants.tenant_id = lifecycle_rows.tenant_id
    union all
    select
        tenants.tenant_id,
        'unknown_role_ids' as quality_check,
        'role assignments and eligibilities naming a role id that neither roleDefinitions (by id or templateId) nor '
        || 'the built-in catalogue knows' as reason,
        access_role_rows.rows_total,
        access_role_rows.rows_not_understood
    from tenants
    left join access_role_rows
        on tenants.tenant_id = access_role_rows.tenant_id
    union all
    select
        tenants.tenant_id,
        'policies_without_rules' as quality_check,
        'role policy assignments whose policy came without rules' as reason,
        policy_rows.rows_total,
        policy_rows.rows_not_understood
    from tenants
    left join policy_rows
        on tenants.tenant_id = policy_rows.tenant_id
),

final as (
    select
        md5(concat_ws('|', checks.tenant_id, checks.quality_check)) as unreadable_input_id,
        checks.tenant_id,
        checks.quality_check,
        checks.reason,
        coalesce(checks.rows_total, 0) as rows_total,
        coalesce(checks.rows_not_understood, 0) as rows_not_understood,
        coalesce(checks.rows_not_understood, 0) / nullif(checks.rows_total, 0) as share_not_understood,
        design.max_unreadable_share,
        coalesce(checks.rows_not_understood / nullif(checks.rows_total, 0) > design.max_unreadable_share, false)
            as is_above_threshold
    from checks
    cross join design
)

select * from final
