-- Conditional Access policies, one row per policy and each user, group or role it includes or excludes
-- (conditions.users). A policy that lists nobody still has one row, with a null target.
with

source as (
    {{ latest_snapshot('conditional_access_policies') }}
),

policies as (
    select
        tenant_id,
        id as policy_id,
        record ->> 'displayName' as policy_name,
        record ->> 'state' as policy_state,
        list_contains(
            coalesce(try_cast(record -> '$.conditions.applications.includeApplications' as varchar[]), []), 'All'
        ) as is_for_all_applications,
        list_contains(coalesce(try_cast(record -> '$.grantControls.builtInControls' as varchar[]), []), 'mfa')
        or coalesce(json_type(record -> '$.grantControls.authenticationStrength') = 'OBJECT', false)
            as requires_mfa,
        record -> '$.conditions.users' as user_conditions
    from source
),

targets as (
    {% for kind, property in [
        ('include_user', 'includeUsers'),
        ('exclude_user', 'excludeUsers'),
        ('include_group', 'includeGroups'),
        ('exclude_group', 'excludeGroups'),
        ('include_role', 'includeRoles'),
        ('exclude_role', 'excludeRoles'),
    ] %}
        select
            tenant_id,
            policy_id,
            '{{ kind }}' as target_kind,
            unnest(coalesce(try_cast(user_conditions -> '$.{{ property }}' as varchar[]), [])) as target_id
        from policies
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        md5(concat_ws('|', policies.tenant_id, policies.policy_id, targets.target_kind, targets.target_id))
            as policy_target_id,
        policies.tenant_id,
        policies.policy_id,
        policies.policy_name,
        policies.policy_state,
        policies.policy_state = 'enabled' as is_enabled,
        policies.is_for_all_applications,
        policies.requires_mfa,
        targets.target_kind,
        targets.target_id
    from policies
    left join targets
        on
            policies.tenant_id = targets.tenant_id
            and policies.policy_id = targets.policy_id
)

select * from final
