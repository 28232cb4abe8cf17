with

access_rows as (
    select * from {{ ref('int_access_rows_unioned') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

groups as (
    select * from {{ ref('stg_graph__groups') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

principals as (
    select
        tenant_id,
        user_id as principal_id,
        'user' as principal_type,
        display_name
    from users
    union all
    select
        tenant_id,
        group_id as principal_id,
        'group' as principal_type,
        display_name
    from groups
    union all
    select
        tenant_id,
        service_principal_id as principal_id,
        'service_principal' as principal_type,
        display_name
    from service_principals
),

final as (
    select
        access_rows.access_id,
        access_rows.tenant_id,
        access_rows.principal_id,
        coalesce(principals.principal_type, 'unknown') as principal_type,
        principals.display_name as principal_name,
        access_rows.role_definition_id,
        roles.role_name,
        coalesce(roles.is_privileged, false) as is_privileged_role,
        access_rows.directory_scope_id,
        access_rows.access_state,
        {{ standing_access_states('access_rows.access_state') }} as is_standing,
        access_rows.source_collection,
        access_rows.start_at,
        access_rows.end_at
    from access_rows
    left join roles
        on
            access_rows.tenant_id = roles.tenant_id
            and access_rows.role_definition_id = roles.role_definition_id
    left join principals
        on
            access_rows.tenant_id = principals.tenant_id
            and access_rows.principal_id = principals.principal_id
)

select * from final
