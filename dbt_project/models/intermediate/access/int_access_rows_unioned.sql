-- Every way a principal holds a role today, one row per principal x role x scope x state.
with

access_rows as (
    {{ access_rows(
        ref('stg_graph__role_eligibility_schedule_instances'),
        ref('stg_graph__role_assignment_schedule_instances'),
        ref('stg_graph__role_assignments')
    ) }}
),

final as (
    select
        md5(
            concat_ws('|', tenant_id, principal_id, role_definition_id, directory_scope_id, access_state)
        ) as access_id,
        *
    from access_rows
)

select * from final
