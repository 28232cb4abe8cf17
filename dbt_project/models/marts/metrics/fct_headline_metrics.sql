-- The headline metrics of docs/metrics.md, one row per tenant and metric. A metric that cannot be computed
-- is null, never 0.
with

access as (
    select * from {{ ref('fct_role_access') }}
),

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

coverage as (
    select * from {{ ref('stg_meta__coverage') }}
),

metric_sources as (
    select * from {{ ref('metric_sources') }}
),

metric_quality_checks as (
    select * from {{ ref('metric_quality_checks') }}
),

unreadable_inputs as (
    select * from {{ ref('fct_unreadable_inputs') }}
),

users as (
    select * from {{ ref('stg_graph__users') }}
),

compliance as (
    select * from {{ ref('fct_role_compliance') }}
    where role_system = 'entra'
),

alerts as (
    select * from {{ ref('fct_alerts') }}
),

-- Head-counts (docs/metrics.md, "Head-counts"): groups expanded to their members, owners never counted, users and
-- service principals apart (fct_privileged_head_counts; path_kind 'any' is each principal once).
head_counts as (
    select * from {{ ref('fct_privileged_head_counts') }}
    where path_kind = 'any'
),

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    where role_system = 'entra'
),

tenants as (
    select distinct tenant_id from coverage
),

privileged_access as (
    select * from access
    where is_privileged_role
),

state_counts as (
    select
        tenants.tenant_id,
        count(privileged_access.access_id) filter (where privileged_access.access_state = 'eligible') as eligible,
        count(privileged_access.access_id) filter (where privileged_access.access_state = 'active_permanent')
            as active_permanent,
        count(privileged_access.access_id) filter (where privileged_access.access_state = 'active_time_bound')
            as active_time_bound,
        count(privileged_access.access_id) filter (where privileged_access.access_state = 'activated') as activated,
        count(privileged_access.access_id) filter (where privileged_access.access_state = 'outside_pim') as outside_pim
    from tenants
    left join privileged_access
        on tenants.tenant_id = privileged_access.tenant_id
    group by tenants.tenant_id
),

-- Every holder of a privileged role by any path, and whether any of its paths is standing.
privileged_holders as (
    select
        tenant_id,
        principal_id,
        bool_or(is_standing) as has_standing_access,
        bool_or(privilege_state = 'active') as has_active_path,
        bool_or(is_direct) as has_direct_path
    from effective_privilege
    where is_privileged_role and is_holder
    group by tenant_id, principal_id
),

-- Each head-count per tenant, in total and for users and service principals apart.
head_count_totals as (
    select
        tenant_id,
        head_count,
        sum(principals) as principals,
        coalesce(sum(principals) filter (where principal_type = 'user'), 0) as user_principals,
        coalesce(sum(principals) filter (where principal_type = 'service_principal'), 0) as service_principals
    from head_counts
    group by tenant_id, head_count
),

principal_counts as (
    select
        tenants.tenant_id,
        coalesce(privileged.principals, 0) as privileged_principals,
        coalesce(privileged.user_principals, 0) as privileged_users,
        coalesce(privileged.service_principals, 0) as privileged_service_principals,
        coalesce(global_admins.principals, 0) as global_admins,
        coalesce(global_admins.user_principals, 0) as global_admin_users,
        coalesce(global_admins.service_principals, 0) as global_admin_service_principals
    from tenants
    left join head_count_totals as privileged
        on
            tenants.tenant_id = privileged.tenant_id
            and privileged.head_count = 'privileged_principals'
    left join head_count_totals as global_admins
        on
            tenants.tenant_id = global_admins.tenant_id
            and global_admins.head_count = 'global_admins'
),

holder_counts as (
    select
        tenants.tenant_id,
        count(privileged_holders.principal_id) filter (
            where not privileged_holders.has_standing_access
        ) as eligible_only_principals,
        count(privileged_holders.principal_id) filter (
            where privileged_holders.has_active_path
        ) as effective_active_privileged_principals,
        count(privileged_holders.principal_id) filter (
            where not privileged_holders.has_direct_path
        ) as group_only_privileged_principals,
        count(users.user_id) filter (where users.user_type = 'Guest') as privileged_guests,
        count(users.user_id) filter (where users.is_synced_from_on_premises) as privileged_synced_accounts
    from tenants
    left join privileged_holders
        on tenants.tenant_id = privileged_holders.tenant_id
    left join users
        on
            privileged_holders.tenant_id = users.tenant_id
            and privileged_holders.principal_id = users.user_id
    group by tenants.tenant_id
),

request_counts as (
    select
        tenants.tenant_id,
        count(requests.activation_request_id) as activation_requests,
        count(*) filter (where requests.approval_decision = 'approved') as approved,
        count(*) filter (where requests.approval_decision is not null) as decided,
        median(requests.approval_latency_ms) filter (
            where requests.approval_decision is not null
        ) as median_approval_latency_ms,
        -- Requested against granted duration, and re-activation soon after expiry (rollout friction).
        count(requests.activation_request_id) filter (
            where requests.is_granted_shorter_than_requested
        ) as activations_granted_shorter_than_requested,
        count(requests.activation_request_id) filter (
            where requests.is_reactivation_after_expiry
        ) as reactivations_after_expiry
    from tenants
    left join requests
        on tenants.tenant_id = requests.tenant_id
    group by tenants.tenant_id
),

compliance_counts as (
    select
        tenants.tenant_id,
        count(distinct compliance.role_definition_id) filter (
            where compliance.tier = 'tier0' and compliance.compliance_rule = 'approval_required'
            and compliance.actual_value = 'false'
        ) as tier0_roles_without_approval,
        count(compliance.role_compliance_id) filter (where compliance.is_failure) as role_compliance_failures
    from tenants
    left join compliance
        on tenants.tenant_id = compliance.tenant_id
    group by tenants.tenant_id
),

alert_counts as (
    select
        tenants.tenant_id,
        count(alerts.alert_id) as alerts_raised
    from tenants
    left join alerts
        on tenants.tenant_id = alerts.tenant_id
    group by tenants.tenant_id
),

-- Over-privileged principals (fct_over_privileged_principals): distinct principals with any reason.
over_privileged as (
    select * from {{ ref('fct_over_privileged_principals') }}
),

over_privileged_metric_rows as (
    select
        tenants.tenant_id,
        'over_privileged_principals' as metric_name,
        cast(count(distinct over_privileged.principal_id) as double) as metric_value
    from tenants
    left join over_privileged
        on tenants.tenant_id = over_privileged.tenant_id
    group by tenants.tenant_id
),
-- End of over-privileged principals.

-- The metrics of issue 20's surfaces (Azure, policies beyond directory roles, expiring access, deactivations,
-- verdicts, resource activations), computed in a mart of their own.
surface_metric_rows as (
    select
        tenant_id,
        metric_name,
        metric_value
    from {{ ref('fct_surface_headline_metrics') }}
),

-- Sign-ins of privileged accounts, applications and Microsoft's PIM alerts (issue 20, items 4, 5 and 8) ---------
privileged_accounts as (
    select * from {{ ref('fct_privileged_account_sign_ins') }}
),

activation_contexts as (
    select * from {{ ref('fct_activation_sign_in_context') }}
),

privileged_sign_ins as (
    select * from {{ ref('fct_privileged_sign_ins') }}
),

application_risk as (
    select * from {{ ref('fct_application_risk') }}
),

privileged_application_owners as (
    select * from {{ ref('fct_privileged_application_owners') }}
),

application_credentials as (
    select * from {{ ref('fct_application_credentials') }}
),

high_privilege_grants as (
    select * from {{ ref('fct_high_privilege_delegated_grants') }}
),

pim_alert_agreement as (
    select * from {{ ref('fct_pim_alert_agreement') }}
),

controls as (
    select * from {{ ref('fct_controls_coverage') }}
),

surface_metrics as (
    select
        tenants.tenant_id,
        (
            select count(*) from privileged_accounts
            where privileged_accounts.tenant_id = tenants.tenant_id and privileged_accounts.is_stale
        ) as stale_privileged_accounts,
        (
            select count(*) from activation_contexts
            where activation_contexts.tenant_id = tenants.tenant_id and activation_contexts.is_new_country
        ) as activations_from_new_country,
        (
            select count(*) from activation_contexts
            where activation_contexts.tenant_id = tenants.tenant_id and activation_contexts.is_new_ip_range
        ) as activations_from_new_ip_range,
        (
            select count(*) from activation_contexts
            where activation_contexts.tenant_id = tenants.tenant_id and activation_contexts.is_new_device
        ) as activations_from_new_device,
        (
            select count(*) from privileged_sign_ins
            where
                privileged_sign_ins.tenant_id = tenants.tenant_id and privileged_sign_ins.is_break_glass
                and privileged_sign_ins.signed_in_at > {{ as_of() }} - interval 30 day
        ) as break_glass_sign_ins,
        (
            select count(*) from application_risk
            where application_risk.tenant_id = tenants.tenant_id and application_risk.is_tier0
        ) as tier0_applications,
        (
            select count(distinct privileged_application_owners.owner_id) from privileged_application_owners
            where
                privileged_application_owners.tenant_id = tenants.tenant_id
                and privileged_application_owners.is_tier0
        ) as tier0_application_owners,
        (
            select count(*) from application_credentials
            where application_credentials.tenant_id = tenants.tenant_id and application_credentials.is_expired
        ) as expired_application_credentials,
        (
            select count(*) from application_credentials
            where application_credentials.tenant_id = tenants.tenant_id and application_credentials.is_over_lifetime
        ) as long_lived_application_credentials,
        (
            select count(distinct high_privilege_grants.grant_id) from high_privilege_grants
            where high_privilege_grants.tenant_id = tenants.tenant_id
        ) as high_privilege_delegated_grants,
        (
            select sum(pim_alert_agreement.microsoft_only_findings + pim_alert_agreement.pimlens_only_findings)
            from pim_alert_agreement
            where pim_alert_agreement.tenant_id = tenants.tenant_id and pim_alert_agreement.compared_on != 'none'
        ) as pim_alert_disagreements,
        (
            select count(*) from controls
            where
                controls.tenant_id = tenants.tenant_id and controls.control = 'conditional_access_mfa'
                and not controls.is_met
        ) as privileged_users_without_mfa_policy,
        (
            select count(*) from controls
            where
                controls.tenant_id = tenants.tenant_id and starts_with(controls.control, 'break_glass')
                and not controls.is_met
        ) as break_glass_check_failures
    from tenants
),
-- End of sign-ins, applications and PIM alerts.

metrics as (
    select
        state_counts.tenant_id,
        state_counts.eligible as privileged_access_eligible,
        state_counts.active_permanent as privileged_access_active_permanent,
        state_counts.active_time_bound as privileged_access_active_time_bound,
        state_counts.activated as privileged_access_activated,
        state_counts.outside_pim as privileged_access_outside_pim,
        state_counts.active_permanent + state_counts.active_time_bound + state_counts.outside_pim
            as standing_privileged_access,
        principal_counts.privileged_principals,
        principal_counts.privileged_users,
        principal_counts.privileged_service_principals,
        holder_counts.eligible_only_principals / nullif(principal_counts.privileged_principals, 0)
            as eligible_only_principal_share,
        request_counts.activation_requests,
        request_counts.approved / nullif(request_counts.decided, 0) as approval_rate,
        request_counts.median_approval_latency_ms / 1000 as median_approval_latency_seconds,
        principal_counts.global_admins,
        principal_counts.global_admin_users,
        principal_counts.global_admin_service_principals,
        principal_counts.global_admins / nullif(principal_counts.privileged_principals, 0) as global_admin_share,
        holder_counts.privileged_guests,
        holder_counts.privileged_synced_accounts,
        holder_counts.effective_active_privileged_principals,
        holder_counts.group_only_privileged_principals,
        compliance_counts.tier0_roles_without_approval,
        compliance_counts.role_compliance_failures,
        alert_counts.alerts_raised
    from state_counts
    inner join principal_counts
        on state_counts.tenant_id = principal_counts.tenant_id
    inner join request_counts
        on state_counts.tenant_id = request_counts.tenant_id
    inner join holder_counts
        on state_counts.tenant_id = holder_counts.tenant_id
    inner join compliance_counts
        on state_counts.tenant_id = compliance_counts.tenant_id
    inner join alert_counts
        on state_counts.tenant_id = alert_counts.tenant_id
),

-- Access reviews and requested against granted duration (issue 4, items 3 and 6) ------------------------------
review_coverage as (
    select * from {{ ref('fct_access_review_coverage') }}
),

review_outcomes as (
    select * from {{ ref('fct_access_review_outcomes') }}
),

review_coverage_counts as (
    select
        tenants.tenant_id,
        count(review_coverage.access_review_coverage_id) filter (
            where review_coverage.has_privileged_access and not review_coverage.is_reviewed
        ) as privileged_roles_without_access_review
    from tenants
    left join review_coverage
        on tenants.tenant_id = review_coverage.tenant_id
    group by tenants.tenant_id
),

review_outcome_counts as (
    select
        tenants.tenant_id,
        coalesce(sum(review_outcomes.self_reviews), 0) as access_review_self_decisions,
        coalesce(sum(review_outcomes.late_decisions), 0) as access_review_late_decisions,
        coalesce(sum(review_outcomes.denials_not_applied), 0) as access_review_denials_not_applied
    from tenants
    left join review_outcomes
        on tenants.tenant_id = review_outcomes.tenant_id
    group by tenants.tenant_id
),

review_and_duration_metrics as (
    select
        review_coverage_counts.tenant_id,
        review_coverage_counts.privileged_roles_without_access_review,
        review_outcome_counts.access_review_self_decisions,
        review_outcome_counts.access_review_late_decisions,
        review_outcome_counts.access_review_denials_not_applied,
        request_counts.activations_granted_shorter_than_requested,
        request_counts.reactivations_after_expiry
    from review_coverage_counts
    inner join review_outcome_counts
        on review_coverage_counts.tenant_id = review_outcome_counts.tenant_id
    inner join request_counts
        on review_coverage_counts.tenant_id = request_counts.tenant_id
),
-- end of access reviews and requested against granted duration -------------------------------------------------

unpivoted as (
    {% for metric_name in [
        'privileged_access_eligible',
        'privileged_access_active_permanent',
        'privileged_access_active_time_bound',
        'privileged_access_activated',
        'privileged_access_outside_pim',
        'standing_privileged_access',
        'privileged_principals',
        'privileged_users',
        'privileged_service_principals',
        'eligible_only_principal_share',
        'activation_requests',
        'approval_rate',
        'median_approval_latency_seconds',
        'global_admins',
        'global_admin_users',
        'global_admin_service_principals',
        'global_admin_share',
        'privileged_guests',
        'privileged_synced_accounts',
        'tier0_roles_without_approval',
        'role_compliance_failures',
        'alerts_raised',
        'effective_active_privileged_principals',
        'group_only_privileged_principals',
    ] %}
        select
            tenant_id,
            '{{ metric_name }}' as metric_name,
            cast({{ metric_name }} as double) as metric_value
        from metrics
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
    -- Access reviews and requested against granted duration (issue 4, items 3 and 6).
    {% for metric_name in [
        'privileged_roles_without_access_review',
        'access_review_self_decisions',
        'access_review_late_decisions',
        'access_review_denials_not_applied',
        'activations_granted_shorter_than_requested',
        'reactivations_after_expiry',
    ] %}
        union all
        select
            tenant_id,
            '{{ metric_name }}' as metric_name,
            cast({{ metric_name }} as double) as metric_value
        from review_and_duration_metrics
    {% endfor %}
    -- Over-privileged principals.
    union all
    select * from over_privileged_metric_rows
    -- Issue 20's surfaces.
    union all
    select * from surface_metric_rows
    -- Sign-ins of privileged accounts, applications and Microsoft's PIM alerts.
    {% for metric_name in [
        'stale_privileged_accounts',
        'activations_from_new_country',
        'activations_from_new_ip_range',
        'activations_from_new_device',
        'break_glass_sign_ins',
        'tier0_applications',
        'tier0_application_owners',
        'expired_application_credentials',
        'long_lived_application_credentials',
        'high_privilege_delegated_grants',
        'pim_alert_disagreements',
        'privileged_users_without_mfa_policy',
        'break_glass_check_failures',
    ] %}
        union all
        select
            tenant_id,
            '{{ metric_name }}' as metric_name,
            cast({{ metric_name }} as double) as metric_value
        from surface_metrics
    {% endfor %}
),

-- A metric whose sources were not all read in the latest run is unknown, never a misleading zero.
uncovered_metrics as (
    select distinct
        tenants.tenant_id,
        metric_sources.metric_name
    from tenants
    cross join metric_sources
    left join coverage
        on
            tenants.tenant_id = coverage.tenant_id
            and metric_sources.collection = coverage.collection
    where not coalesce(coverage.is_covered, false)
    -- Unknown too when more than the design's share of its input rows could not be understood (fct_unreadable_inputs).
    union
    select
        unreadable_inputs.tenant_id,
        metric_quality_checks.metric_name
    from unreadable_inputs
    inner join metric_quality_checks
        on unreadable_inputs.quality_check = metric_quality_checks.quality_check
    where unreadable_inputs.is_above_threshold
),

final as (
    select
        md5(concat_ws('|', unpivoted.tenant_id, unpivoted.metric_name)) as headline_metric_id,
        unpivoted.tenant_id,
        unpivoted.metric_name,
        case when uncovered_metrics.metric_name is null then unpivoted.metric_value end as metric_value,
        uncovered_metrics.metric_name is null as is_known,
        {{ as_of() }} as as_of_at,
        now() as computed_at
    from unpivoted
    left join uncovered_metrics
        on
            unpivoted.tenant_id = uncovered_metrics.tenant_id
            and unpivoted.metric_name = uncovered_metrics.metric_name
)

select * from final
