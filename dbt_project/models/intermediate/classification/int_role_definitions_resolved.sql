-- Every role id the tenant's data names, resolved to a role: one row per tenant and role id. An id is looked up
-- in the tenant's roleDefinitions by id; else by templateId (a custom role's schedules and policies name it by its
-- template id, which differs from its id in roleDefinitions); else in Microsoft's built-in catalogue by its
-- well-known template id (the role_classification seed: a catalogue read that failed, a built-in role named by
-- template); else it is kept as "unknown role <id>", flagged, and counted by fct_unreadable_inputs. No id is dropped,
-- so no mart that names a role fails its relationship to dim_roles because of one unknown id.
with

role_definitions as (
    select * from {{ ref('stg_graph__role_definitions') }}
),

built_in_roles as (
    select * from {{ ref('role_classification') }}
),

access_rows as (
    select * from {{ ref('int_access_rows_unioned') }}
),

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

policies as (
    select * from {{ ref('stg_graph__role_management_policy_assignments') }}
),

referenced_role_ids as (
    select
        tenant_id,
        role_definition_id
    from access_rows
    union
    select
        tenant_id,
        role_definition_id
    from audits
    where audits.surface = 'directory_role' and audits.role_definition_id is not null
    union
    select
        tenant_id,
        role_definition_id
    from policies
    where policies.role_definition_id is not null
),

unlisted_role_ids as (
    select referenced_role_ids.*
    from referenced_role_ids
    anti join role_definitions
        on
            referenced_role_ids.tenant_id = role_definitions.tenant_id
            and referenced_role_ids.role_definition_id = role_definitions.role_definition_id
),

by_template_id as (
    select
        unlisted_role_ids.tenant_id,
        unlisted_role_ids.role_definition_id,
        role_definitions.role_definition_id as catalogue_role_definition_id,
        role_definitions.role_name,
        role_definitions.template_id,
        role_definitions.is_built_in,
        role_definitions.is_enabled,
        role_definitions.is_privileged
    from unlisted_role_ids
    inner join role_definitions
        on
            unlisted_role_ids.tenant_id = role_definitions.tenant_id
            and lower(unlisted_role_ids.role_definition_id) = lower(role_definitions.template_id)
    qualify row_number() over (
        partition by unlisted_role_ids.tenant_id, unlisted_role_ids.role_definition_id
        order by role_definitions.role_definition_id
    ) = 1
),

not_in_catalogue as (
    select unlisted_role_ids.*
    from unlisted_role_ids
    anti join by_template_id
        on
            unlisted_role_ids.tenant_id = by_template_id.tenant_id
            and unlisted_role_ids.role_definition_id = by_template_id.role_definition_id
),

final as (
    select
        tenant_id,
        role_definition_id,
        role_definition_id as catalogue_role_definition_id,
        role_name,
        template_id,
        is_built_in,
        is_enabled,
        is_privileged,
        'role_definitions' as role_resolution
    from role_definitions
    union all
    select
        *,
        'template_id' as role_resolution
    from by_template_id
    union all
    select
        not_in_catalogue.tenant_id,
        not_in_catalogue.role_definition_id,
        cast(null as varchar) as catalogue_role_definition_id,
        coalesce(built_in_roles.role_name, 'unknown role ' || not_in_catalogue.role_definition_id) as role_name,
        built_in_roles.template_id,
        built_in_roles.template_id is not null as is_built_in,
        case when built_in_roles.template_id is not null then true end as is_enabled,
        built_in_roles.is_privileged_microsoft as is_privileged,
        case when built_in_roles.template_id is not null then 'built_in_catalogue' else 'unknown' end
            as role_resolution
    from not_in_catalogue
    left join built_in_roles
        on lower(not_in_catalogue.role_definition_id) = built_in_roles.template_id
)

select
    *,
    role_resolution = 'unknown' as is_unknown_role
from final
