-- One row per activation request of a privileged role, with the sign-in it was made from: the requester's latest
-- successful interactive sign-in in the hour before the request, and whether that sign-in's country, network or
-- device was new for them (fct_privileged_sign_ins). Null verdicts: no such sign-in, or the user's first one.
with

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

sign_ins as (
    select * from {{ ref('fct_privileged_sign_ins') }}
),

privileged_requests as (
    select * from requests
    where is_privileged_role
),

linked as (
    select
        privileged_requests.activation_request_id,
        sign_ins.signin_id
    from privileged_requests
    inner join sign_ins
        on
            privileged_requests.tenant_id = sign_ins.tenant_id
            and privileged_requests.principal_id = sign_ins.user_id
            and privileged_requests.requested_at >= sign_ins.signed_in_at
            and privileged_requests.requested_at - interval 1 hour <= sign_ins.signed_in_at
    where sign_ins.is_success and sign_ins.is_interactive
    qualify row_number() over (
        partition by privileged_requests.activation_request_id
        order by sign_ins.signed_in_at desc, sign_ins.signin_id desc
    ) = 1
),

final as (
    select
        privileged_requests.activation_request_id,
        privileged_requests.tenant_id,
        privileged_requests.request_id,
        privileged_requests.principal_id,
        privileged_requests.role_definition_id,
        privileged_requests.requested_at,
        privileged_requests.outcome,
        sign_ins.signin_id,
        sign_ins.signed_in_at,
        sign_ins.country,
        sign_ins.ip_range,
        sign_ins.device_key,
        sign_ins.is_new_country,
        sign_ins.is_new_ip_range,
        sign_ins.is_new_device,
        coalesce(sign_ins.is_new_country or sign_ins.is_new_ip_range or sign_ins.is_new_device, false)
            as is_from_new_context
    from privileged_requests
    left join linked
        on privileged_requests.activation_request_id = linked.activation_request_id
    left join sign_ins
        on
            privileged_requests.tenant_id = sign_ins.tenant_id
            and linked.signin_id = sign_ins.signin_id
)

select * from final
