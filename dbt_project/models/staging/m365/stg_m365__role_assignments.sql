-- Intune's and Exchange Online's role assignments from their latest snapshots, one row per role system, assignment,
-- principal and scope. An Intune assignment (unifiedRoleAssignmentMultiple) names several principals and several
-- scopes: each principal holds the role over each scope. An Exchange assignment (unifiedRoleAssignment) names one
-- of each, its principal an object id or a path such as /ServicePrincipals/{id} (the id is its last segment).
with

intune as (
    {{ latest_snapshot('intune_role_assignments') }}
),

exchange as (
    {{ latest_snapshot('exchange_role_assignments') }}
),

intune_principals as (
    select
        tenant_id,
        id as assignment_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        unnest(from_json(record -> 'principalIds', '["VARCHAR"]')) as principal_reference,
        load_id
    from intune
),

intune_scopes as (
    select
        tenant_id,
        id as assignment_id,
        'directory' as scope_kind,
        unnest(from_json(record -> 'directoryScopeIds', '["VARCHAR"]')) as scope_id
    from intune
    union all
    select
        tenant_id,
        id as assignment_id,
        'app' as scope_kind,
        unnest(from_json(record -> 'appScopeIds', '["VARCHAR"]')) as scope_id
    from intune
),

intune_rows as (
    select
        'intune' as role_system,
        intune_principals.tenant_id,
        intune_principals.assignment_id,
        intune_principals.role_definition_id,
        intune_principals.principal_reference,
        intune_scopes.scope_kind,
        intune_scopes.scope_id,
        intune_principals.load_id
    from intune_principals
    inner join intune_scopes
        on
            intune_principals.tenant_id = intune_scopes.tenant_id
            and intune_principals.assignment_id = intune_scopes.assignment_id
),

exchange_rows as (
    select
        'exchange' as role_system,
        tenant_id,
        id as assignment_id,
        record ->> 'roleDefinitionId' as role_definition_id,
        record ->> 'principalId' as principal_reference,
        case when record ->> 'directoryScopeId' is not null then 'directory' else 'app' end as scope_kind,
        coalesce(record ->> 'directoryScopeId', record ->> 'appScopeId') as scope_id,
        load_id
    from exchange
),

unioned as (
    select * from intune_rows
    union all
    select * from exchange_rows
),

final as (
    select
        md5(concat_ws('|', role_system, assignment_id, principal_reference, scope_kind, scope_id))
            as m365_role_grant_id,
        tenant_id,
        role_system,
        assignment_id,
        role_definition_id,
        regexp_extract(principal_reference, '[^/]+$') as principal_id,
        principal_reference,
        scope_kind,
        scope_id,
        load_id
    from unioned
)

select * from final
