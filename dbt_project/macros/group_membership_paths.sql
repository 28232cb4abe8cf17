{#- Every way a user or service principal sits in a role-assignable group, one row per group x principal x
    path kind (docs/metrics.md, "Effective privilege"), from the groups' transitive members and the PIM for
    Groups eligibility and assignment instances. `grain` as in access_rows: none for the latest snapshot,
    snapshot_date for the daily history.

    membership_state is what the path gives the principal: `active` for a standing or activated membership,
    `eligible` for a PIM for Groups eligibility (it must be activated first), `owner` for ownership (an owner can
    add themself as a member, but holds nothing until they do: reported, never counted as a holder).
    is_standing_membership: a membership held without an activation (a plain member, or a PIM for Groups member
    assignment of type `assigned`). A transitive membership that an active PIM for Groups member instance accounts
    for is reported once, on the PIM path. -#}
{% macro group_membership_paths(transitive_members, group_eligibility, group_assignments, grain=[]) -%}
    {%- set grain_columns -%}{% for column in grain %}{{ column }}, {% endfor %}{%- endset -%}
    with

    transitive_members as (
        select * from {{ transitive_members }}
    ),

    group_eligibility as (
        select * from {{ group_eligibility }}
    ),

    group_assignments as (
        select * from {{ group_assignments }}
    ),

    pim_eligible as (
        select
            tenant_id,
            {{ grain_columns }}
            group_id,
            principal_id,
            'pim_group_' || group_access || '_eligible' as path_kind,
            case when group_access = 'member' then 'eligible' else 'owner' end as membership_state,
            false as is_standing_membership,
            'privilegedAccess/group/eligibilityScheduleInstances' as source_collection,
            start_at,
            end_at
        from group_eligibility
        where group_access in ('member', 'owner')
    ),

    pim_active as (
        select
            tenant_id,
            {{ grain_columns }}
            group_id,
            principal_id,
            'pim_group_' || group_access || '_active' as path_kind,
            case when group_access = 'member' then 'active' else 'owner' end as membership_state,
            group_access = 'member' and assignment_type = 'assigned' as is_standing_membership,
            'privilegedAccess/group/assignmentScheduleInstances' as source_collection,
            start_at,
            end_at
        from group_assignments
        where group_access in ('member', 'owner')
    ),

    -- Members PIM for Groups does not account for: added to the group directly (or through a nested group).
    plain_members as (
        select
            transitive_members.tenant_id,
            {% for column in grain %}transitive_members.{{ column }},{% endfor %}
            transitive_members.group_id,
            transitive_members.member_id as principal_id,
            'group_member' as path_kind,
            'active' as membership_state,
            true as is_standing_membership,
            'groups/transitiveMembers' as source_collection,
            cast(null as timestamptz) as start_at,
            cast(null as timestamptz) as end_at
        from transitive_members
        where
            transitive_members.member_type in ('user', 'service_principal')
            and not exists (
                select 1
                from group_assignments
                where
                    group_assignments.tenant_id = transitive_members.tenant_id
                    {% for column in grain %}
                        and group_assignments.{{ column }} = transitive_members.{{ column }}
                    {% endfor %}
                    and group_assignments.group_id = transitive_members.group_id
                    and group_assignments.principal_id = transitive_members.member_id
                    and group_assignments.group_access = 'member'
            )
    ),

    unioned as (
        select * from pim_eligible
        union all
        select * from pim_active
        union all
        select * from plain_members
    ),

    -- Two instances of one path (say, two time-bound eligibilities) count once, with the widest window; an
    -- active member both assigned and activated holds standing.
    collapsed as (
        select
            tenant_id,
            {{ grain_columns }}
            group_id,
            principal_id,
            path_kind,
            membership_state,
            bool_or(is_standing_membership) as is_standing_membership,
            any_value(source_collection) as source_collection,
            min(start_at) as start_at,
            case when count(*) = count(end_at) then max(end_at) end as end_at
        from unioned
        group by all
    ),

    final as (
        select
            md5(concat_ws(
                '|', tenant_id, {% for column in grain %}{{ column }}, {% endfor %}group_id, principal_id, path_kind
            )) as group_membership_path_id,
            *
        from collapsed
    )

    select * from final
{%- endmacro %}
