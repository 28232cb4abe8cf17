-- Sign-ins of privileged users only (docs/metrics.md, "Sign-ins of privileged accounts"): the holders of a
-- privileged role by any path, and whoever requested a privileged role's activation. Each successful sign-in says
-- whether its country, network and device are new for the user: unseen in any of the user's earlier successful
-- sign-ins (unknown for the user's first one).
with

sign_ins as (
    select * from {{ ref('stg_loganalytics__signin_logs') }}
),

-- Holders of privileged directory roles and Azure roles alike (role_system entra or azure).
effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
),

requests as (
    select * from {{ ref('fct_activation_requests') }}
),

break_glass_users as (
    select * from {{ ref('int_break_glass_users') }}
),

privileged_users as (
    select
        tenant_id,
        principal_id as user_id
    from effective_privilege
    where is_privileged_role and is_holder and principal_type = 'user'
    union
    select
        tenant_id,
        principal_id as user_id
    from requests
    where is_privileged_role
),

kept as (
    select sign_ins.*
    from sign_ins
    inner join privileged_users
        on
            sign_ins.tenant_id = privileged_users.tenant_id
            and sign_ins.user_id = privileged_users.user_id
    where sign_ins.signed_in_at <= {{ as_of() }}
),

-- Within each user's successful sign-ins, in time order: the first one, and the first with each country, network
-- and device.
successful as (
    select
        tenant_id,
        signin_id,
        row_number() over by_user > 1 as has_earlier_sign_in,
        row_number() over (
            partition by tenant_id, user_id, country order by signed_in_at, signin_id
        ) = 1 as is_first_country,
        row_number() over (
            partition by tenant_id, user_id, ip_range order by signed_in_at, signin_id
        ) = 1 as is_first_ip_range,
        row_number() over (
            partition by tenant_id, user_id, device_key order by signed_in_at, signin_id
        ) = 1 as is_first_device
    from kept
    where is_success
    window by_user as (partition by tenant_id, user_id order by signed_in_at, signin_id)
),

final as (
    select
        md5(concat_ws('|', kept.tenant_id, kept.signin_id)) as privileged_sign_in_id,
        kept.tenant_id,
        kept.signin_id,
        kept.user_id,
        kept.signed_in_at,
        kept.app_name,
        kept.ip_address,
        kept.ip_range,
        kept.country,
        kept.device_key,
        kept.device_id is not null as is_registered_device,
        kept.is_success,
        kept.is_interactive,
        kept.is_mfa,
        break_glass_users.user_id is not null as is_break_glass,
        case when successful.has_earlier_sign_in then successful.is_first_country end as is_new_country,
        case when successful.has_earlier_sign_in then successful.is_first_ip_range end as is_new_ip_range,
        case when successful.has_earlier_sign_in then successful.is_first_device end as is_new_device
    from kept
    left join successful
        on
            kept.tenant_id = successful.tenant_id
            and kept.signin_id = successful.signin_id
    left join break_glass_users
        on
            kept.tenant_id = break_glass_users.tenant_id
            and kept.user_id = break_glass_users.user_id
)

select * from final
