-- Admin tasks a user initiated, each with the least-privileged role that allows it (seed
-- audit_activity_least_privileged_role; null when the seed does not map it): every Core Directory event, and the PIM
-- events the seed lists (approving a request, assigning outside PIM). A requester's own activation steps are not
-- admin tasks. Read by fct_over_privileged_principals (tier0_only_lesser_tasks) and fct_policy_advice (lesser_role).
with

admin_audits as (
    select * from {{ ref('stg_graph__directory_admin_audits') }}
),

pim_audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

least_roles as (
    select * from {{ ref('audit_activity_least_privileged_role') }}
),

audited_tasks as (
    select
        tenant_id,
        audit_event_id,
        initiated_by_user_id as user_id,
        activity_display_name,
        activity_at
    from admin_audits
    where initiated_by_user_id is not null
    union all
    select
        pim_audits.tenant_id,
        pim_audits.audit_event_id,
        pim_audits.initiated_by_user_id as user_id,
        pim_audits.activity_display_name,
        pim_audits.activity_at
    from pim_audits
    inner join least_roles
        on pim_audits.activity_display_name = least_roles.activity_display_name
    where pim_audits.initiated_by_user_id is not null
),

final as (
    select
        audited_tasks.tenant_id,
        audited_tasks.audit_event_id,
        audited_tasks.user_id,
        audited_tasks.activity_display_name,
        audited_tasks.activity_at,
        least_roles.least_privileged_role_template_id,
        least_roles.least_privileged_role_name
    from audited_tasks
    left join least_roles
        on audited_tasks.activity_display_name = least_roles.activity_display_name
)

select * from final
