-- Every directory role the tenant's data names (dim_roles), with its resolved tier and every classification
-- scheme (dim_role_classification) and the settings of its PIM policy, durations as numbers.
with

roles as (
    select * from {{ ref('dim_roles') }}
),

classification as (
    select * from {{ ref('dim_role_classification') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

final as (
    select
        {{ star_key(['roles.tenant_id', 'roles.role_definition_id']) }} as role_key,
        tenants.tenant_key,
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
        roles.is_permanent_eligibility_allowed
    from roles
    inner join tenants
        on roles.tenant_id = tenants.tenant_id
    left join classification
        on
            roles.tenant_id = classification.tenant_id
            and roles.role_definition_id = classification.role_definition_id
)

select * from final
