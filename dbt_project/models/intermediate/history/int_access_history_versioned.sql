-- Every eligible and PIM-active access tuple over time, from the daily snapshots: one row per version.
with

eligibility_versions as (
    {{ snapshot_history('role_eligibility_schedule_instances') }}
),

assignment_versions as (
    {{ snapshot_history('role_assignment_schedule_instances') }}
),

eligible as (
    select
        tenant_id,
        id as instance_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        'eligible' as access_state,
        valid_from,
        valid_to
    from eligibility_versions
),

active as (
    select
        tenant_id,
        id as instance_id,
        record ->> 'principalId' as principal_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        coalesce(record ->> 'directoryScopeId', '/') as directory_scope_id,
        {{ access_state("record ->> 'assignmentType'", "record ->> 'endDateTime'") }} as access_state,
        valid_from,
        valid_to
    from assignment_versions
),

unioned as (
    select * from eligible
    union all
    select * from active
),

final as (
    select
        md5(concat_ws('|', tenant_id, instance_id, access_state, cast(valid_from as varchar))) as access_version_id,
        *
    from unioned
)

select * from final
