-- Every version of every eligible and PIM-active access tuple, with when it held (valid_from, valid_to): the
-- history Graph does not keep. Built from the extractor's dated snapshots, so it starts at the first run.
with

versions as (
    select * from {{ ref('int_access_history_versioned') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

final as (
    select
        versions.access_version_id,
        versions.tenant_id,
        versions.instance_id,
        versions.principal_id,
        versions.role_definition_id,
        roles.role_name,
        coalesce(roles.is_privileged, false) as is_privileged_role,
        versions.directory_scope_id,
        versions.access_state,
        versions.access_state in ('active_permanent', 'active_time_bound') as is_standing,
        versions.valid_from,
        versions.valid_to,
        versions.valid_to is null as is_current
    from versions
    left join roles
        on
            versions.tenant_id = roles.tenant_id
            and versions.role_definition_id = roles.role_definition_id
)

select * from final
