-- One row per access review instance: its decisions by result, whether they came in by the due date,
-- self-reviews, and whether denials were applied (pim-rules.md, thing 7: outcomes, not just existence).
with

definitions as (
    select * from {{ ref('stg_graph__access_review_definitions') }}
),

instances as (
    select * from {{ ref('stg_graph__access_review_instances') }}
),

decisions as (
    select * from {{ ref('stg_graph__access_review_decisions') }}
),

-- Graph's statuses once an instance is past its end date; the ones before it are NotStarted, Initializing,
-- Starting and InProgress.
finished_instances as (
    select
        *,
        status in ('Completed', 'AutoReviewing', 'AutoReviewed', 'Applying', 'Applied') as is_finished
    from instances
),

decision_counts as (
    select
        decisions.tenant_id,
        decisions.review_definition_id,
        decisions.review_instance_id,
        count(*) as decisions,
        count(*) filter (where decisions.decision = 'Approve') as approvals,
        count(*) filter (where decisions.decision = 'Deny') as denials,
        count(*) filter (where decisions.decision = 'DontKnow') as dont_knows,
        count(*) filter (where decisions.decision = 'NotReviewed') as not_reviewed,
        count(*) filter (where decisions.reviewed_at > instances.end_at) as late_decisions,
        count(*) filter (
            where decisions.reviewed_at is not null and decisions.reviewed_by_id = decisions.principal_id
        ) as self_reviews,
        count(*) filter (
            where decisions.decision = 'Deny' and decisions.apply_result like 'AppliedSuccessfully%'
        ) as denials_applied,
        max(decisions.reviewed_at) as last_reviewed_at
    from decisions
    inner join instances
        on
            decisions.tenant_id = instances.tenant_id
            and decisions.review_definition_id = instances.review_definition_id
            and decisions.review_instance_id = instances.review_instance_id
    group by decisions.tenant_id, decisions.review_definition_id, decisions.review_instance_id
),

joined as (
    select
        finished_instances.tenant_id,
        finished_instances.review_definition_id,
        finished_instances.review_instance_id,
        definitions.review_name,
        definitions.role_definition_id,
        definitions.is_auto_apply_enabled,
        finished_instances.status as instance_status,
        finished_instances.is_finished,
        finished_instances.start_at,
        finished_instances.end_at as due_at,
        coalesce(decision_counts.decisions, 0) as decisions,
        coalesce(decision_counts.approvals, 0) as approvals,
        coalesce(decision_counts.denials, 0) as denials,
        coalesce(decision_counts.dont_knows, 0) as dont_knows,
        coalesce(decision_counts.not_reviewed, 0) as not_reviewed,
        coalesce(decision_counts.late_decisions, 0) as late_decisions,
        coalesce(decision_counts.self_reviews, 0) as self_reviews,
        coalesce(decision_counts.denials_applied, 0) as denials_applied,
        decision_counts.last_reviewed_at
    from finished_instances
    left join definitions
        on
            finished_instances.tenant_id = definitions.tenant_id
            and finished_instances.review_definition_id = definitions.review_definition_id
    left join decision_counts
        on
            finished_instances.tenant_id = decision_counts.tenant_id
            and finished_instances.review_definition_id = decision_counts.review_definition_id
            and finished_instances.review_instance_id = decision_counts.review_instance_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, review_definition_id, review_instance_id)) as access_review_outcome_id,
        *,
        -- A denial of a finished review that was never applied leaves the access in place; while the review
        -- runs, nothing is due yet.
        case when is_finished then denials - denials_applied end as denials_not_applied,
        case
            when not is_finished then 'in_progress'
            when not_reviewed > 0 then 'incomplete'
            when late_decisions > 0 then 'late'
            else 'on_time'
        end as completion_status,
        is_finished and not_reviewed = 0 and late_decisions = 0 as is_completed_on_time
    from joined
)

select * from final
