-- One row per privileged directory role: which access review covers it, how often it recurs, when it last
-- completed, and whether that is longer ago than the design allows (pim-rules.md rule 15).
with

roles as (
    select * from {{ ref('dim_roles') }}
),

access as (
    select * from {{ ref('fct_role_access') }}
),

definitions as (
    select * from {{ ref('stg_graph__access_review_definitions') }}
),

outcomes as (
    select * from {{ ref('fct_access_review_outcomes') }}
),

design as (
    select * from {{ ref('stg_design__access_reviews') }}
),

-- The evaluation instant (as_of), as in fct_stale_eligibilities: the run's start unless the configuration sets one.
evaluated_at as (
    select {{ as_of() }} as evaluated_at
),

held_roles as (
    select distinct
        tenant_id,
        role_definition_id
    from access
),

privileged_roles as (
    select
        roles.tenant_id,
        roles.role_definition_id,
        roles.role_name,
        held_roles.role_definition_id is not null as has_privileged_access
    from roles
    left join held_roles
        on
            roles.tenant_id = held_roles.tenant_id
            and roles.role_definition_id = held_roles.role_definition_id
    where roles.is_privileged
),

-- Months count as 30 days and years as 365: the cadence is compared with a number of days.
definition_cadence as (
    select
        *,
        recurrence_interval * case recurrence_pattern_type
            when 'daily' then 1
            when 'weekly' then 7
            when 'absoluteMonthly' then 30
            when 'relativeMonthly' then 30
            when 'absoluteYearly' then 365
            when 'relativeYearly' then 365
        end as cadence_days
    from definitions
    where role_definition_id is not null
),

last_completed as (
    select
        tenant_id,
        review_definition_id,
        arg_max(review_instance_id, due_at) as last_completed_instance_id,
        max(due_at) as last_completed_at
    from outcomes
    where is_finished
    group by tenant_id, review_definition_id
),

-- A role reviewed by several definitions is judged by the one that completed most recently.
role_reviews as (
    select
        definition_cadence.tenant_id,
        definition_cadence.role_definition_id,
        definition_cadence.review_definition_id,
        definition_cadence.review_name,
        definition_cadence.recurrence_pattern_type,
        definition_cadence.recurrence_interval,
        definition_cadence.cadence_days,
        definition_cadence.instance_duration_days,
        definition_cadence.is_auto_apply_enabled,
        last_completed.last_completed_instance_id,
        last_completed.last_completed_at,
        count(*) over (
            partition by definition_cadence.tenant_id, definition_cadence.role_definition_id
        ) as review_definitions
    from definition_cadence
    left join last_completed
        on
            definition_cadence.tenant_id = last_completed.tenant_id
            and definition_cadence.review_definition_id = last_completed.review_definition_id
    qualify row_number() over (
        partition by definition_cadence.tenant_id, definition_cadence.role_definition_id
        order by
            last_completed.last_completed_at desc nulls last,
            definition_cadence.cadence_days asc nulls last,
            definition_cadence.review_definition_id asc
    ) = 1
),

joined as (
    select
        privileged_roles.tenant_id,
        privileged_roles.role_definition_id,
        privileged_roles.role_name,
        privileged_roles.has_privileged_access,
        coalesce(role_reviews.review_definitions, 0) as review_definitions,
        role_reviews.review_definition_id is not null as is_reviewed,
        role_reviews.review_definition_id,
        role_reviews.review_name,
        role_reviews.recurrence_pattern_type,
        role_reviews.recurrence_interval,
        role_reviews.cadence_days,
        role_reviews.instance_duration_days,
        role_reviews.is_auto_apply_enabled,
        role_reviews.last_completed_instance_id,
        role_reviews.last_completed_at,
        evaluated_at.evaluated_at,
        design.max_days_since_review
    from privileged_roles
    cross join design
    cross join evaluated_at
    left join role_reviews
        on
            privileged_roles.tenant_id = role_reviews.tenant_id
            and privileged_roles.role_definition_id = role_reviews.role_definition_id
),

final as (
    select
        md5(concat_ws('|', tenant_id, role_definition_id)) as access_review_coverage_id,
        *,
        cast(floor(datediff('second', last_completed_at, evaluated_at) / 86400) as integer) as days_since_last_review,
        cadence_days <= max_days_since_review as is_cadence_within_design,
        case
            when not is_reviewed then 'not_reviewed'
            when last_completed_at is null then 'never_completed'
            when last_completed_at < evaluated_at - to_days(max_days_since_review) then 'overdue'
            else 'current'
        end as review_status,
        case
            when is_reviewed
                then last_completed_at is null or last_completed_at < evaluated_at - to_days(max_days_since_review)
        end as is_overdue
    from joined
)

select * from final
