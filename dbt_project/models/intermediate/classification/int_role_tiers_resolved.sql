-- One resolved tier per role: the design's override, else the default of the classification seed, else
-- Microsoft's isPrivileged (tier1) or nothing (tier2). A role is privileged when its tier is tier0 or tier1: the
-- one meaning of "privileged" every mart and metric uses (docs/metrics.md); Microsoft's flag is kept beside it.
with

roles as (
    select * from {{ ref('int_role_definitions_resolved') }}
),

classification as (
    select * from {{ ref('role_classification') }}
),

overrides as (
    select * from {{ ref('stg_design__role_tiers_override') }}
),

resolved as (
    select
        roles.tenant_id,
        roles.role_definition_id,
        roles.template_id,
        roles.role_name,
        coalesce(roles.is_privileged, false) as is_privileged_microsoft,
        classification.privilege_plane,
        classification.is_attack_path_tier0,
        classification.is_cisa_highly_privileged,
        classification.default_tier as classification_tier,
        overrides.tier as override_tier,
        coalesce(
            overrides.tier,
            classification.default_tier,
            case when roles.is_privileged then 'tier1' else 'tier2' end
        ) as tier,
        case
            when overrides.tier is not null then 'design_override'
            when classification.default_tier is not null then 'classification_seed'
            else 'microsoft_is_privileged'
        end as tier_source
    from roles
    left join classification
        on coalesce(roles.template_id, roles.role_definition_id) = classification.template_id
    left join overrides
        on coalesce(roles.template_id, roles.role_definition_id) = overrides.template_id
),

final as (
    select
        *,
        tier in ('tier0', 'tier1') as is_privileged
    from resolved
)

select * from final
