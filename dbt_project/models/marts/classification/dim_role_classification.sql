-- Each role in every classification scheme side by side, and the one tier pimlens resolves for it.
with

role_tiers as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

final as (
    select
        md5(concat_ws('|', tenant_id, role_definition_id)) as role_classification_id,
        tenant_id,
        role_definition_id,
        template_id,
        role_name,
        is_privileged_microsoft,
        privilege_plane,
        coalesce(is_attack_path_tier0, false) as is_attack_path_tier0,
        coalesce(is_cisa_highly_privileged, false) as is_cisa_highly_privileged,
        classification_tier,
        override_tier,
        tier,
        tier_source,
        is_privileged
    from role_tiers
)

select * from final
