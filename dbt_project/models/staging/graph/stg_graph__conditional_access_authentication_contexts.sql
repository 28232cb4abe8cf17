-- The authentication contexts each Conditional Access policy targets
-- (conditions.applications.includeAuthenticationContextClassReferences), one row per policy and context: a PIM
-- role that asks for a context on activation is protected only by the enabled policies targeting it.
with

source as (
    {{ latest_snapshot('conditional_access_policies') }}
),

contexts as (
    select
        tenant_id,
        id as policy_id,
        record ->> 'displayName' as policy_name,
        record ->> 'state' as policy_state,
        unnest(
            coalesce(
                try_cast(
                    record -> '$.conditions.applications.includeAuthenticationContextClassReferences' as varchar[]
                ),
                []
            )
        ) as claim_value,
        load_id
    from source
),

final as (
    select
        md5(concat_ws('|', tenant_id, policy_id, claim_value)) as policy_context_id,
        tenant_id,
        policy_id,
        policy_name,
        policy_state,
        policy_state = 'enabled' as is_enabled,
        claim_value,
        load_id
    from contexts
)

select * from final
