-- Every role the star's facts name, one row per role system and role: each directory role the tenant's data names
-- (dim_roles, role_system entra) with its resolved tier, every classification scheme (dim_role_classification) and
-- the settings of its PIM policy, durations as numbers; each Azure role the tenant's Azure access rows or policies
-- name (int_azure_roles_classified, role_system azure); and each onboarded group's PIM for Groups member and owner
-- "role" the compliance matrix judges (fct_role_compliance, role_system pim_group, <group id>/<member|owner>).
-- Azure and group policies are set per scope (a subscription, a group), so their settings are null here and live
-- in fct_star_role_compliance.
with

roles as (
    select * from {{ ref('dim_roles') }}
),

classification as (
    select * from {{ ref('dim_role_classification') }}
),

azure_roles as (
    select * from {{ ref('int_azure_roles_classified') }}
),

azure_policy_rules as (
    select * from {{ ref('stg_arm__role_policy_rules') }}
),

compliance as (
    select * from {{ ref('fct_role_compliance') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

directory_roles as (
    select
        roles.tenant_id,
        roles.role_definition_id,
        roles.role_name,
        roles.template_id,
        roles.is_built_in,
        roles.is_enabled,
        roles.is_privileged,
        roles.is_unknown_role,
        roles.template_id = '62e90394-69f5-4237-9190-012177145e10' as is_global_admin_role,
        classification.tier,
        classification.tier_source,
        classification.classification_tier,
        classification.override_tier,
        classification.privilege_plane,
        coalesce(classification.is_attack_path_tier0, false) as is_attack_path_tier0,
        coalesce(classification.is_cisa_highly_privileged, false) as is_cisa_highly_privileged,
        roles.has_pim_policy,
        roles.is_approval_required,
        roles.is_mfa_required_on_activation,
        roles.is_justification_required_on_activation,
        roles.is_ticket_required_on_activation,
        {{ iso8601_duration_seconds('roles.max_activation_duration') }} / 3600.0 as max_activation_hours,
        roles.is_permanent_eligibility_allowed,
        'entra' as role_system
    from roles
    left join classification
        on
            roles.tenant_id = classification.tenant_id
            and roles.role_definition_id = classification.role_definition_id
),

azure_policy_roles as (
    select distinct
        tenant_id,
        role_definition_id
    from azure_policy_rules
),

-- is_privileged is the resolved tier's (tier0 or tier1), as for directory roles: the one meaning every mart counts
-- by (Microsoft's own list of privileged Azure roles is int_azure_roles_classified.is_privileged_microsoft). The
-- columns only a directory role has are null here (union by name), the directory-only flags false.
azure as (
    select
        azure_roles.tenant_id,
        azure_roles.role_definition_id,
        azure_roles.role_name,
        azure_roles.is_privileged,
        azure_roles.is_unknown_role,
        false as is_global_admin_role,
        azure_roles.tier,
        azure_roles.tier_source,
        azure_roles.classification_tier,
        azure_roles.override_tier,
        false as is_attack_path_tier0,
        false as is_cisa_highly_privileged,
        azure_policy_roles.role_definition_id is not null as has_pim_policy,
        'azure' as role_system,
        azure_roles.is_control_plane
    from azure_roles
    left join azure_policy_roles
        on
            azure_roles.tenant_id = azure_policy_roles.tenant_id
            and azure_roles.role_definition_id = azure_policy_roles.role_definition_id
),

-- A group's tier is the highest tier of the roles it grants (docs/metrics.md, "Compliance matrix"), the same on
-- each of the group's rows of the matrix.
groups as (
    select
        tenant_id,
        policy_scope_id || '/' || role_definition_id as role_definition_id,
        any_value(role_name) as role_name,
        coalesce(any_value(tier) in ('tier0', 'tier1'), false) as is_privileged,
        false as is_global_admin_role,
        any_value(tier) as tier,
        'group_roles_granted' as tier_source,
        false as is_attack_path_tier0,
        false as is_cisa_highly_privileged,
        true as has_pim_policy,
        'pim_group' as role_system
    from compliance
    where role_system = 'pim_group'
    group by tenant_id, policy_scope_id, role_definition_id
),

unioned as (
    select * from directory_roles
    union all by name
    select * from azure
    union all by name
    select * from groups
),

final as (
    select
        {{ star_role_key('unioned.tenant_id', 'unioned.role_system', 'unioned.role_definition_id') }} as role_key,
        tenants.tenant_key,
        unioned.tenant_id,
        unioned.role_definition_id,
        unioned.role_name,
        unioned.template_id,
        unioned.is_built_in,
        unioned.is_enabled,
        unioned.is_privileged,
        unioned.is_unknown_role,
        unioned.is_global_admin_role,
        unioned.tier,
        unioned.tier_source,
        unioned.classification_tier,
        unioned.override_tier,
        unioned.privilege_plane,
        unioned.is_attack_path_tier0,
        unioned.is_cisa_highly_privileged,
        unioned.has_pim_policy,
        unioned.is_approval_required,
        unioned.is_mfa_required_on_activation,
        unioned.is_justification_required_on_activation,
        unioned.is_ticket_required_on_activation,
        unioned.max_activation_hours,
        unioned.is_permanent_eligibility_allowed,
        unioned.role_system,
        unioned.is_control_plane
    from unioned
    inner join tenants
        on unioned.tenant_id = tenants.tenant_id
)

select * from final
