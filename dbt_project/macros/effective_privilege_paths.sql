{#- Effective privilege (docs/metrics.md): every path by which a user or service principal holds a directory
    role, one row per principal x role x scope x path. Direct paths are the principal's own access rows; group
    paths compose a group membership path (group_membership_paths) with the group's own access rows. `grain` as
    in access_rows: none for the latest snapshot, snapshot_date for the daily history. `principals_seen` (daily
    history only): int_principals_seen, so a principal is typed by what was known on the day, not by today's
    snapshot. `role_system`: `entra` (directory roles, classified by dim_role_classification, scoped to the tenant,
    an administrative unit or an app) or `azure` (Azure roles, classified by `roles`, scoped to an ARM path). -#}
{% macro effective_privilege_paths(
    access_rows, group_memberships, grain=[], principals_seen=none, role_system='entra', roles=none
) -%}
    {%- set grain_columns -%}{% for column in grain %}{{ column }}, {% endfor %}{%- endset -%}
    with

    access_rows as (
        select * from {{ access_rows }}
    ),

    group_memberships as (
        select * from {{ group_memberships }}
    ),

    roles as (
        select * from {{ roles if roles is not none else ref('dim_role_classification') }}
    ),

    {% if principals_seen is not none %}
    principals as (
        select * from {{ principals_seen }}
    ),
    {% else %}
    users as (
        select * from {{ ref('stg_graph__users') }}
    ),

    service_principals as (
        select * from {{ ref('stg_graph__service_principals') }}
    ),

    groups as (
        select * from {{ ref('stg_graph__groups') }}
    ),

    principals as (
        select
            tenant_id,
            user_id as principal_id,
            'user' as principal_type
        from users
        union all
        select
            tenant_id,
            service_principal_id as principal_id,
            'service_principal' as principal_type
        from service_principals
        union all
        select
            tenant_id,
            group_id as principal_id,
            'group' as principal_type
        from groups
    ),
    {% endif %}

    direct_paths as (
        select
            tenant_id,
            {{ grain_columns }}
            principal_id,
            role_definition_id,
            directory_scope_id,
            'direct_' || access_state as path_kind,
            cast(null as varchar) as via_group_id,
            cast(null as varchar) as via_group_access_state,
            case when access_state = 'eligible' then 'eligible' else 'active' end as privilege_state,
            {{ standing_access_states('access_state') }} as is_standing,
            source_collection,
            source_collection as role_source_collection,
            start_at,
            end_at
        from access_rows
    ),

    -- A member holds the group's role actively only when both the membership and the group's access are
    -- active; otherwise one of them must be activated first, so the role is held eligibly. An owner holds
    -- nothing (state owner). The path is standing when both are held without an activation. It holds while
    -- both do: the later start, the earlier end (null is open-ended and loses to any end).
    group_paths as (
        select
            group_memberships.tenant_id,
            {% for column in grain %}group_memberships.{{ column }},{% endfor %}
            group_memberships.principal_id,
            access_rows.role_definition_id,
            access_rows.directory_scope_id,
            group_memberships.path_kind,
            group_memberships.group_id as via_group_id,
            access_rows.access_state as via_group_access_state,
            case
                when group_memberships.membership_state = 'owner' then 'owner'
                when group_memberships.membership_state = 'active' and access_rows.access_state != 'eligible'
                    then 'active'
                else 'eligible'
            end as privilege_state,
            group_memberships.is_standing_membership
            and {{ standing_access_states('access_rows.access_state') }} as is_standing,
            group_memberships.source_collection,
            access_rows.source_collection as role_source_collection,
            greatest(group_memberships.start_at, access_rows.start_at) as start_at,
            least(group_memberships.end_at, access_rows.end_at) as end_at
        from group_memberships
        inner join access_rows
            on
                group_memberships.tenant_id = access_rows.tenant_id
                {% for column in grain %}
                    and group_memberships.{{ column }} = access_rows.{{ column }}
                {% endfor %}
                and group_memberships.group_id = access_rows.principal_id
    ),

    unioned as (
        select * from direct_paths
        union all
        select * from group_paths
    ),

    final as (
        select
            md5(concat_ws(
                '|',
                unioned.tenant_id,
                {% for column in grain %}unioned.{{ column }},{% endfor %}
                unioned.principal_id,
                unioned.role_definition_id,
                unioned.directory_scope_id,
                unioned.path_kind,
                coalesce(unioned.via_group_id, ''),
                coalesce(unioned.via_group_access_state, '')
            )) as effective_privilege_id,
            unioned.tenant_id,
            {% for column in grain %}unioned.{{ column }},{% endfor %}
            unioned.principal_id,
            coalesce(principals.principal_type, 'unknown') as principal_type,
            unioned.role_definition_id,
            roles.role_name,
            coalesce(roles.is_privileged, false) as is_privileged_role,
            roles.tier,
            unioned.directory_scope_id,
            {% if role_system == 'azure' %}
                case
                    when unioned.directory_scope_id = '/' then 'root'
                    when starts_with(lower(unioned.directory_scope_id), '/providers/microsoft.management/managementgroups/')
                        then 'management_group'
                    when regexp_full_match(lower(unioned.directory_scope_id), '/subscriptions/[^/]+') then 'subscription'
                    when regexp_full_match(lower(unioned.directory_scope_id), '/subscriptions/[^/]+/resourcegroups/[^/]+')
                        then 'resource_group'
                    else 'resource'
                end as scope_type,
            {% else %}
                case
                    when unioned.directory_scope_id = '/' then 'tenant'
                    when unioned.directory_scope_id like '/administrativeUnits/%' then 'administrative_unit'
                    else 'app'
                end as scope_type,
            {% endif %}
            unioned.path_kind,
            unioned.path_kind like 'direct_%' as is_direct,
            unioned.via_group_id,
            unioned.via_group_access_state,
            unioned.privilege_state,
            unioned.privilege_state != 'owner' as is_holder,
            unioned.is_standing,
            unioned.source_collection,
            unioned.role_source_collection,
            unioned.start_at,
            unioned.end_at,
            '{{ role_system }}' as role_system
        from unioned
        left join principals
            on
                unioned.tenant_id = principals.tenant_id
                and unioned.principal_id = principals.principal_id
                {% if principals_seen is not none %}
                    and principals.first_seen_on <= unioned.snapshot_date
                {% endif %}
        left join roles
            on
                unioned.tenant_id = roles.tenant_id
                and unioned.role_definition_id = roles.role_definition_id
        -- A group's own access rows are not a principal's: they are expanded to its members above. A principal
        -- found nowhere (say, a deleted user) still holds the role and stays, as unknown.
        where principals.principal_type is distinct from 'group'
    )

    select * from final
{%- endmacro %}
