-- One verdict per activation (docs/metrics.md, "Per-activation verdicts"): each directory-role activation judged
-- against its role's tier requirements (design file), rule by rule in a fixed order: approval, MFA,
-- justification, ticket, duration. A rule the tier does not require is not checked. The verdict is fail when any
-- rule fails (failed_rule names the first), else unknown when the audit log does not say (MFA is absent from most
-- activation rows: absent is unknown, never false), else pass.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
    where outcome = 'activated'
),

audits as (
    select * from {{ ref('int_audit_events_unioned') }}
),

roles as (
    select * from {{ ref('int_role_tiers_resolved') }}
),

requirements as (
    select * from {{ ref('stg_design__tier_requirements') }}
),

-- What the request's audit rows say about MFA: true when any row says so, false when one says false and none true,
-- null when none says.
mfa_evidence as (
    select
        tenant_id,
        request_id,
        bool_or(is_authenticated_with_mfa) as is_authenticated_with_mfa
    from audits
    where surface = 'directory_role' and request_id is not null and is_authenticated_with_mfa is not null
    group by tenant_id, request_id
),

judged as (
    select
        requests.activation_request_id,
        requests.tenant_id,
        requests.request_id,
        requests.principal_id,
        requests.role_definition_id,
        requests.role_name,
        roles.tier,
        requests.activated_at,
        case
            when not coalesce(requirements.is_approval_required, false) then 'not_required'
            when requests.approval_decision = 'approved' then 'pass'
            else 'fail'
        end as approval_check,
        case
            when not coalesce(requirements.is_mfa_required_on_activation, false) then 'not_required'
            when mfa_evidence.is_authenticated_with_mfa then 'pass'
            when not mfa_evidence.is_authenticated_with_mfa then 'fail'
            else 'unknown'
        end as mfa_check,
        case
            when not coalesce(requirements.is_justification_required, false) then 'not_required'
            when nullif(trim(requests.justification), '') is not null then 'pass'
            else 'fail'
        end as justification_check,
        case
            when not coalesce(requirements.is_ticket_required, false) then 'not_required'
            when {{ has_ticket_reference("coalesce(requests.justification, '')") }} then 'pass'
            else 'fail'
        end as ticket_check,
        case
            when requirements.max_activation_seconds is null then 'not_required'
            when requests.granted_duration_seconds <= requirements.max_activation_seconds then 'pass'
            else 'fail'
        end as duration_check,
        requests.granted_duration_seconds,
        requirements.max_activation_seconds
    from requests
    left join roles
        on
            requests.tenant_id = roles.tenant_id
            and requests.role_definition_id = roles.role_definition_id
    left join requirements
        on roles.tier = requirements.tier
    left join mfa_evidence
        on
            requests.tenant_id = mfa_evidence.tenant_id
            and requests.request_id = mfa_evidence.request_id
),

final as (
    select
        activation_request_id as activation_verdict_id,
        *,
        case
            when 'fail' in (approval_check, mfa_check, justification_check, ticket_check, duration_check) then 'fail'
            when mfa_check = 'unknown' then 'unknown'
            else 'pass'
        end as verdict,
        case
            when approval_check = 'fail' then 'approval'
            when mfa_check = 'fail' then 'mfa'
            when justification_check = 'fail' then 'justification'
            when ticket_check = 'fail' then 'ticket'
            when duration_check = 'fail' then 'duration'
        end as failed_rule
    from judged
)

select * from final
