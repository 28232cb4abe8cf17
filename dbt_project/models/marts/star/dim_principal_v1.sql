-- Every principal the star's facts name: users, groups and service principals of the latest snapshot, and any
-- principal id a fact names that no directory collection holds (principal_type unknown), directory and Azure
-- access alike, so every fact row finds its principal.
with

users as (
    select * from {{ ref('stg_graph__users') }}
),

time_zones as (
    select * from {{ ref('int_user_time_zones_resolved') }}
),

break_glass_accounts as (
    select * from {{ ref('stg_design__break_glass_accounts') }}
),

groups as (
    select * from {{ ref('stg_graph__groups') }}
),

service_principals as (
    select * from {{ ref('stg_graph__service_principals') }}
),

access as (
    select * from {{ ref('fct_role_access') }}
),

azure_access as (
    select * from {{ ref('int_azure_access_rows') }}
),

holder_paths as (
    select * from {{ ref('fct_effective_privilege') }}
),

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

alerts as (
    select * from {{ ref('fct_alerts') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

directory as (
    select
        users.tenant_id,
        users.user_id as principal_id,
        'user' as principal_type,
        users.display_name as principal_name,
        users.user_principal_name as principal_upn,
        users.department,
        time_zones.time_zone,
        time_zones.time_zone_source,
        users.is_synced_from_on_premises as is_synced,
        coalesce(users.user_type = 'Guest', false) as is_guest,
        break_glass_accounts.user_principal_name is not null as is_break_glass,
        users.is_account_enabled as is_enabled
    from users
    left join time_zones
        on
            users.tenant_id = time_zones.tenant_id
            and users.user_id = time_zones.user_id
    left join break_glass_accounts
        on lower(users.user_principal_name) = break_glass_accounts.user_principal_name
    union all
    select
        tenant_id,
        group_id as principal_id,
        'group' as principal_type,
        display_name as principal_name,
        null as principal_upn,
        null as department,
        null as time_zone,
        null as time_zone_source,
        false as is_synced,
        false as is_guest,
        false as is_break_glass,
        null as is_enabled
    from groups
    union all
    select
        tenant_id,
        service_principal_id as principal_id,
        'service_principal' as principal_type,
        display_name as principal_name,
        null as principal_upn,
        null as department,
        null as time_zone,
        null as time_zone_source,
        false as is_synced,
        false as is_guest,
        false as is_break_glass,
        is_account_enabled as is_enabled
    from service_principals
),

named_by_facts as (
    select
        tenant_id,
        principal_id
    from access
    union
    select
        tenant_id,
        principal_id
    from azure_access
    union
    select
        tenant_id,
        principal_id
    from holder_paths
    union
    select
        tenant_id,
        principal_id
    from requests
    union
    select
        tenant_id,
        principal_id
    from alerts
    where principal_id is not null
),

unknown as (
    select
        named_by_facts.tenant_id,
        named_by_facts.principal_id,
        'unknown' as principal_type,
        null as principal_name,
        null as principal_upn,
        null as department,
        null as time_zone,
        null as time_zone_source,
        false as is_synced,
        false as is_guest,
        false as is_break_glass,
        null as is_enabled
    from named_by_facts
    anti join directory
        on
            named_by_facts.tenant_id = directory.tenant_id
            and named_by_facts.principal_id = directory.principal_id
),

principals as (
    select * from directory
    union all
    select * from unknown
),

final as (
    select
        {{ star_key(['principals.tenant_id', 'principals.principal_id']) }} as principal_key,
        tenants.tenant_key,
        principals.tenant_id,
        principals.principal_id,
        principals.principal_type,
        principals.principal_name,
        principals.principal_upn,
        coalesce(principals.department, '(none)') as department,
        principals.time_zone,
        principals.time_zone_source,
        principals.is_synced,
        principals.is_guest,
        principals.is_break_glass,
        principals.is_enabled
    from principals
    inner join tenants
        on principals.tenant_id = tenants.tenant_id
)

select * from final
