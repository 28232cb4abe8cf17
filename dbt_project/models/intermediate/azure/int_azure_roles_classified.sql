-- One row per tenant and Azure role its access rows or PIM policies name: its name and resolved tier. The design's
-- role_tiers override (by role GUID) first, then the seed azure_role_classification; a role neither names (a
-- custom Azure role) is tier2. Privileged means tier0 or tier1, as for directory roles (docs/metrics.md).
with

access_rows as (
    select * from {{ ref('int_azure_access_rows') }}
),

policy_rules as (
    select * from {{ ref('stg_arm__role_policy_rules') }}
),

eligibility as (
    select * from {{ ref('stg_arm__role_eligibility_instances') }}
),

assignment_instances as (
    select * from {{ ref('stg_arm__role_assignment_instances') }}
),

classification as (
    select * from {{ ref('azure_role_classification') }}
),

overrides as (
    select * from {{ ref('stg_design__role_tiers_override') }}
),

referenced as (
    select
        tenant_id,
        role_definition_id
    from access_rows
    union
    select
        tenant_id,
        role_definition_id
    from policy_rules
),

-- The name ARM gives a role in its instances' expandedProperties, for a role the seed does not list.
expanded_names as (
    select
        tenant_id,
        role_definition_id,
        any_value(role_name) as role_name
    from (
        select
            tenant_id,
            role_definition_id,
            role_name
        from eligibility
        union all
        select
            tenant_id,
            role_definition_id,
            role_name
        from assignment_instances
    ) as named
    where role_name is not null
    group by tenant_id, role_definition_id
),

final as (
    select
        md5(concat_ws('|', referenced.tenant_id, referenced.role_definition_id)) as azure_role_id,
        referenced.tenant_id,
        referenced.role_definition_id,
        coalesce(
            classification.role_name, expanded_names.role_name, 'unknown Azure role ' || referenced.role_definition_id
        ) as role_name,
        coalesce(classification.is_privileged_microsoft, false) as is_privileged_microsoft,
        coalesce(classification.is_control_plane, false) as is_control_plane,
        coalesce(overrides.tier, classification.default_tier, 'tier2') as tier,
        coalesce(overrides.tier, classification.default_tier, 'tier2') in ('tier0', 'tier1') as is_privileged,
        classification.default_tier as classification_tier,
        overrides.tier as override_tier,
        case
            when overrides.tier is not null then 'design_override'
            when classification.default_tier is not null then 'classification_seed'
            else 'unclassified_default'
        end as tier_source,
        classification.role_definition_guid is null and expanded_names.role_name is null as is_unknown_role
    from referenced
    left join classification
        on referenced.role_definition_id = classification.role_definition_guid
    left join expanded_names
        on
            referenced.tenant_id = expanded_names.tenant_id
            and referenced.role_definition_id = expanded_names.role_definition_id
    left join overrides
        on referenced.role_definition_id = overrides.template_id
)

select * from final
