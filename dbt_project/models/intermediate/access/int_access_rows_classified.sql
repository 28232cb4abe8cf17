-- Every access row today, directory and Azure (role_system), with its role's name and resolved tier: what the
-- marts that read both systems alike (expiring access, the roles a group grants) start from.
with

directory_access as (
    select * from {{ ref('int_access_rows_unioned') }}
),

directory_roles as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

azure_access as (
    select * from {{ ref('int_azure_access_rows') }}
),

azure_roles as (
    select * from {{ ref('int_azure_roles_classified') }}
),

unioned as (
    select
        'entra' as role_system,
        directory_access.access_id,
        directory_access.tenant_id,
        directory_access.principal_id,
        directory_access.role_definition_id,
        directory_roles.role_name,
        directory_roles.tier,
        directory_roles.is_privileged,
        directory_access.directory_scope_id,
        directory_access.access_state,
        directory_access.start_at,
        directory_access.end_at
    from directory_access
    left join directory_roles
        on
            directory_access.tenant_id = directory_roles.tenant_id
            and directory_access.role_definition_id = directory_roles.role_definition_id
    union all
    select
        'azure' as role_system,
        azure_access.access_id,
        azure_access.tenant_id,
        azure_access.principal_id,
        azure_access.role_definition_id,
        azure_roles.role_name,
        azure_roles.tier,
        azure_roles.is_privileged,
        azure_access.directory_scope_id,
        azure_access.access_state,
        azure_access.start_at,
        azure_access.end_at
    from azure_access
    left join azure_roles
        on
            azure_access.tenant_id = azure_roles.tenant_id
            and azure_access.role_definition_id = azure_roles.role_definition_id
),

final as (
    select
        md5(concat_ws('|', role_system, access_id)) as classified_access_id,
        role_system,
        tenant_id,
        principal_id,
        role_definition_id,
        role_name,
        tier,
        coalesce(is_privileged, false) as is_privileged_role,
        directory_scope_id,
        access_state,
        start_at,
        end_at
    from unioned
)

select * from final
