with

requests as (
    select * from {{ ref('int_activation_requests_joined') }}
),

roles as (
    select * from {{ ref('dim_roles') }}
),

final as (
    select
        md5(concat_ws('|', requests.tenant_id, requests.request_id)) as activation_request_id,
        requests.tenant_id,
        requests.request_id,
        requests.principal_id,
        requests.role_definition_id,
        roles.role_name,
        coalesce(roles.is_privileged, false) as is_privileged_role,
        requests.justification,
        requests.requested_at,
        requests.is_approval_required,
        requests.approval_requested_at,
        requests.approval_decision,
        requests.decided_at,
        requests.decided_by_user_id,
        requests.approval_latency_ms,
        requests.outcome,
        requests.activated_at,
        requests.activation_ended_at
    from requests
    left join roles
        on
            requests.tenant_id = roles.tenant_id
            and requests.role_definition_id = roles.role_definition_id
    where requests.requested_at is not null
)

select * from final
