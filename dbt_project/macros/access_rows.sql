{#- Every way a principal holds a role, one row per principal x role x scope x state (docs/metrics.md, "Access
    row"), from an eligibility, an assignment-instance and a role-assignment relation. `grain` names the columns
    that split the rows further (snapshot_date for the daily history, none for the latest snapshot), so the
    latest and the daily models share one derivation. -#}
{% macro access_rows(eligibility, assignment_instances, role_assignments, grain=[]) -%}
    {%- set grain_columns -%}{% for column in grain %}{{ column }}, {% endfor %}{%- endset -%}
    with

    eligibility as (
        select * from {{ eligibility }}
    ),

    assignment_instances as (
        select * from {{ assignment_instances }}
    ),

    role_assignments as (
        select * from {{ role_assignments }}
    ),

    eligible as (
        select
            tenant_id,
            {{ grain_columns }}
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
            {{ grain_columns }}
            principal_id,
            role_definition_id,
            directory_scope_id,
            {{ access_state("assignment_type", "end_at") }} as access_state,
            'roleAssignmentScheduleInstances' as source_collection,
            start_at,
            end_at
        from assignment_instances
    ),

    -- A role assignment no PIM instance accounts for was made outside PIM (legacy direct assignment).
    outside_pim as (
        select
            role_assignments.tenant_id,
            {% for column in grain %}role_assignments.{{ column }},{% endfor %}
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
                {% for column in grain %}
                    and assignment_instances.{{ column }} = role_assignments.{{ column }}
                {% endfor %}
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
            {{ grain_columns }}
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
    )

    select * from collapsed
{%- endmacro %}
