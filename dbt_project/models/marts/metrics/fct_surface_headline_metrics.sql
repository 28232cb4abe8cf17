-- The headline metrics of issue 20's surfaces (docs/metrics.md: "Azure", "Compliance matrix" beyond directory
-- roles, "Expiring access and deactivations", "Per-activation verdicts", "Activations of groups and Azure
-- resources", "Other role systems"), one row per tenant and metric. fct_headline_metrics adds them to the others,
-- and makes a metric unknown when its sources were not read, as for every metric. Advice from behaviour
-- (fct_policy_advice) too.
with

coverage as (
    select * from {{ ref('stg_meta__coverage') }}
),

tenants as (
    select distinct tenant_id from coverage
),

-- Azure RBAC and PIM for Azure resources (docs/metrics.md, "Azure"): holders by any path, groups expanded.
azure_paths as (
    select * from {{ ref('fct_effective_privilege') }}
    where role_system = 'azure' and is_privileged_role and is_holder
),

azure_access_rows as (
    select * from {{ ref('int_azure_access_rows') }}
),

azure_roles as (
    select * from {{ ref('int_azure_roles_classified') }}
),

azure_metric_rows as (
    select
        tenants.tenant_id,
        'azure_privileged_principals' as metric_name,
        cast(count(distinct azure_paths.principal_id) as double) as metric_value
    from tenants
    left join azure_paths
        on tenants.tenant_id = azure_paths.tenant_id
    group by tenants.tenant_id
    union all
    select
        tenants.tenant_id,
        'azure_control_plane_principals' as metric_name,
        cast(count(distinct azure_paths.principal_id) filter (where azure_paths.tier = 'tier0') as double)
            as metric_value
    from tenants
    left join azure_paths
        on tenants.tenant_id = azure_paths.tenant_id
    group by tenants.tenant_id
    union all
    select
        tenants.tenant_id,
        'azure_standing_privileged_access' as metric_name,
        cast(count(azure_roles.role_definition_id) as double) as metric_value
    from tenants
    left join azure_access_rows
        on
            tenants.tenant_id = azure_access_rows.tenant_id
            and {{ standing_access_states('azure_access_rows.access_state') }}
    left join azure_roles
        on
            azure_access_rows.tenant_id = azure_roles.tenant_id
            and azure_access_rows.role_definition_id = azure_roles.role_definition_id
            and azure_roles.is_privileged
    group by tenants.tenant_id
),
-- End of Azure.

-- Intune's and Exchange Online's RBAC (docs/metrics.md, "Other role systems"): the users and service principals
-- holding each system's roles, groups expanded, and the privileged Entra holders among them. A principal no
-- directory lists (an Exchange role group or role assignment policy) is in the mart, not in these counts.
m365_role_assignments as (
    select * from {{ ref('fct_m365_role_assignments') }}
    where principal_type in ('user', 'service_principal')
),

m365_role_metric_rows as (
    select
        tenants.tenant_id,
        metric.metric_name,
        cast(count(distinct m365_role_assignments.principal_id) as double) as metric_value
    from tenants
    cross join (
        values ('intune', 'intune_role_principals'), ('exchange', 'exchange_role_principals')
    ) as metric (role_system, metric_name)
    left join m365_role_assignments
        on
            tenants.tenant_id = m365_role_assignments.tenant_id
            and metric.role_system = m365_role_assignments.role_system
    group by tenants.tenant_id, metric.metric_name
    union all
    select
        tenants.tenant_id,
        'privileged_principals_with_m365_roles' as metric_name,
        cast(count(distinct m365_role_assignments.principal_id) as double) as metric_value
    from tenants
    left join m365_role_assignments
        on
            tenants.tenant_id = m365_role_assignments.tenant_id
            and m365_role_assignments.holds_privileged_entra_role
    group by tenants.tenant_id
),
-- End of Intune's and Exchange Online's RBAC.

-- The compliance matrix beyond directory roles: Azure role policies and PIM for Groups policies.
surface_compliance as (
    select * from {{ ref('fct_role_compliance') }}
    where role_system != 'entra'
),

surface_compliance_metric_rows as (
    select
        tenants.tenant_id,
        metric.metric_name,
        cast(count(surface_compliance.role_compliance_id) as double) as metric_value
    from tenants
    cross join (
        values ('azure', 'azure_role_compliance_failures'), ('pim_group', 'pim_group_compliance_failures')
    ) as metric (role_system, metric_name)
    left join surface_compliance
        on
            tenants.tenant_id = surface_compliance.tenant_id
            and metric.role_system = surface_compliance.role_system
            and surface_compliance.is_failure
    group by tenants.tenant_id, metric.metric_name
),
-- End of the compliance matrix beyond directory roles.

-- Expiring access and deactivations.
expiring_access as (
    select * from {{ ref('fct_expiring_access') }}
    where is_privileged_role
),

activation_endings as (
    select * from {{ ref('fct_activation_endings') }}
),

lifecycle_metric_rows as (
    select
        tenants.tenant_id,
        'privileged_access_expiring' as metric_name,
        cast(count(expiring_access.expiring_access_id) as double) as metric_value
    from tenants
    left join expiring_access
        on tenants.tenant_id = expiring_access.tenant_id
    group by tenants.tenant_id
    union all
    select
        tenants.tenant_id,
        'self_deactivation_rate' as metric_name,
        count(activation_endings.activation_ending_id) filter (where activation_endings.is_self_deactivated)
        / nullif(
            count(activation_endings.activation_ending_id) filter (where activation_endings.ended_by != 'active'), 0
        ) as metric_value
    from tenants
    left join activation_endings
        on tenants.tenant_id = activation_endings.tenant_id
    group by tenants.tenant_id
),
-- End of expiring access and deactivations.

-- Per-activation verdicts, and activations of groups and Azure resources.
activation_verdicts as (
    select * from {{ ref('fct_activation_verdicts') }}
),

resource_activations as (
    select * from {{ ref('fct_resource_activations') }}
    where has_activation
),

activation_family_metric_rows as (
    select
        tenants.tenant_id,
        'activations_failing_tier_rules' as metric_name,
        cast(count(activation_verdicts.activation_verdict_id) as double) as metric_value
    from tenants
    left join activation_verdicts
        on
            tenants.tenant_id = activation_verdicts.tenant_id
            and activation_verdicts.verdict = 'fail'
    group by tenants.tenant_id
    union all
    select
        tenants.tenant_id,
        metric.metric_name,
        cast(count(resource_activations.resource_activation_id) as double) as metric_value
    from tenants
    cross join (
        values ('pim_group', 'pim_group_activations'), ('azure', 'azure_activations')
    ) as metric (role_system, metric_name)
    left join resource_activations
        on
            tenants.tenant_id = resource_activations.tenant_id
            and metric.role_system = resource_activations.role_system
    group by tenants.tenant_id, metric.metric_name
),
-- End of per-activation verdicts and resource activations.

-- Governance controls of PIM role settings and the administrative-unit scoping (docs/metrics.md, "Controls
-- coverage").
policy_controls as (
    select * from {{ ref('fct_controls_coverage') }}
    where
        control in (
            'activation_authentication_context', 'approver_exists', 'approver_enabled', 'approver_not_requester'
        )
),

approver_load as (
    select * from {{ ref('fct_approver_load_monthly') }}
),

unit_scoping as (
    select * from {{ ref('fct_administrative_unit_scoping') }}
),

governance_metric_rows as (
    select
        tenants.tenant_id,
        metric.metric_name,
        cast(count(policy_controls.control_coverage_id) as double) as metric_value
    from tenants
    cross join (
        values
        ('activation_authentication_context', 'unenforced_authentication_contexts'),
        ('approver', 'approver_check_failures')
    ) as metric (control_prefix, metric_name)
    left join policy_controls
        on
            tenants.tenant_id = policy_controls.tenant_id
            and starts_with(policy_controls.control, metric.control_prefix)
            and not policy_controls.is_met
    group by tenants.tenant_id, metric.metric_name
    union all
    select
        tenants.tenant_id,
        'peak_monthly_approver_load' as metric_name,
        cast(coalesce(max(approver_load.decided_requests), 0) as double) as metric_value
    from tenants
    left join approver_load
        on tenants.tenant_id = approver_load.tenant_id
    group by tenants.tenant_id
    union all
    select
        tenants.tenant_id,
        'administrative_unit_scoped_share' as metric_name,
        sum(unit_scoping.administrative_unit_pairs) / nullif(sum(unit_scoping.holder_role_pairs), 0) as metric_value
    from tenants
    left join unit_scoping
        on tenants.tenant_id = unit_scoping.tenant_id
    group by tenants.tenant_id
),
-- End of governance controls.

-- Advice from behaviour: the rows of each kind of advice, a lesser role only where one is named.
policy_advice as (
    select * from {{ ref('fct_policy_advice') }}
),

advice_metric_rows as (
    select
        tenants.tenant_id,
        metric.metric_name,
        cast(count(policy_advice.policy_advice_id) as double) as metric_value
    from tenants
    cross join (
        values
        ('convert_standing_to_eligible', 'advice_convert_standing_to_eligible'),
        ('remove_stale_eligibility', 'advice_remove_stale_eligibility'),
        ('lower_max_activation', 'advice_lower_max_activation'),
        ('add_approval', 'advice_add_approval'),
        ('drop_approval', 'advice_drop_approval'),
        ('lesser_role', 'advice_lesser_role')
    ) as metric (advice_kind, metric_name)
    left join policy_advice
        on
            tenants.tenant_id = policy_advice.tenant_id
            and metric.advice_kind = policy_advice.advice_kind
            -- A lesser role is advice only when one is named: unknown is no advice.
            and policy_advice.lesser_role_verdict is distinct from 'unknown'
    group by tenants.tenant_id, metric.metric_name
),
-- End of advice from behaviour.

unioned as (
    select * from azure_metric_rows
    union all
    select * from m365_role_metric_rows
    union all
    select * from surface_compliance_metric_rows
    union all
    select * from lifecycle_metric_rows
    union all
    select * from activation_family_metric_rows
    union all
    select * from governance_metric_rows
    union all
    select * from advice_metric_rows
),

final as (
    select
        md5(concat_ws('|', tenant_id, metric_name)) as surface_metric_id,
        tenant_id,
        metric_name,
        metric_value
    from unioned
)

select * from final
