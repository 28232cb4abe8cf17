-- The compliance matrix over time: one row per role, rule and stretch of time in which the policy's value and
-- its status stayed the same. A role's first stretch starts at the first run that saw its policy; each later one
-- is a drift (regressed, remediated or changed). Every stretch is judged against today's design file.
with

roles as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

policy_versions as (
    select * from {{ ref('int_role_policy_versions') }}
),

requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

judged_versions as (
    {{ role_compliance_matrix('roles', 'policy_versions', 'requirements', keys=['valid_from', 'valid_to']) }}
),

-- A new stretch begins where the value or the status differs from the version before, or after a gap in which
-- the role had no policy.
marked as (
    select
        *,
        coalesce(
            coalesce(lag(actual_value) over by_rule, '<none>') = coalesce(actual_value, '<none>')
            and lag(compliance_status) over by_rule = compliance_status
            and lag(valid_to) over by_rule = valid_from,
            false
        ) as continues_previous
    from judged_versions
    window by_rule as (partition by tenant_id, role_definition_id, compliance_rule order by valid_from)
),

numbered as (
    select
        *,
        sum(case when continues_previous then 0 else 1 end) over (
            partition by tenant_id, role_definition_id, compliance_rule order by valid_from
        ) as stretch_number
    from marked
),

stretches as (
    select
        tenant_id,
        role_definition_id,
        compliance_rule,
        stretch_number,
        any_value(role_name) as role_name,
        any_value(tier) as tier,
        arg_max(policy_id, valid_from) as policy_id,
        any_value(expected_value) as expected_value,
        any_value(actual_value) as actual_value,
        any_value(compliance_status) as compliance_status,
        any_value(is_failure) as is_failure,
        min(valid_from) as valid_from,
        -- open-ended while any of its versions is current
        case when bool_or(valid_to is null) then null else max(valid_to) end as valid_to
    from numbered
    group by tenant_id, role_definition_id, compliance_rule, stretch_number
),

compared as (
    select
        *,
        lag(compliance_status) over by_rule as previous_status,
        lag(actual_value) over by_rule as previous_value
    from stretches
    window by_rule as (partition by tenant_id, role_definition_id, compliance_rule order by valid_from)
),

final as (
    select
        md5(concat_ws('|', tenant_id, role_definition_id, compliance_rule, cast(valid_from as varchar)))
            as role_compliance_stretch_id,
        tenant_id,
        role_definition_id,
        role_name,
        tier,
        policy_id,
        compliance_rule,
        expected_value,
        previous_value,
        actual_value,
        previous_status,
        compliance_status,
        is_failure,
        case
            when previous_status is null then null
            when compliance_status = 'fail' and previous_status != 'fail' then 'regressed'
            when previous_status = 'fail' and compliance_status != 'fail' then 'remediated'
            -- the same value again after a stretch in which the role had no policy
            when coalesce(previous_value, '<none>') = coalesce(actual_value, '<none>') then 'reappeared'
            else 'changed'
        end as drift,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from compared
)

select * from final
