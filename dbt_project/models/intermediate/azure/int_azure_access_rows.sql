-- Every way a principal holds an Azure role today, one row per principal x role x ARM scope x state: the access
-- rows of docs/metrics.md (eligible, active_permanent, active_time_bound, activated, outside_pim) read from ARM's
-- Microsoft.Authorization collections by the same rules as the directory's (macros/access_rows.sql). A role
-- assignment that no PIM instance names as its origin was made outside PIM.
with

access_rows as (
    {{ access_rows(
        ref('stg_arm__role_eligibility_instances'),
        ref('stg_arm__role_assignment_instances'),
        ref('stg_arm__role_assignments')
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
