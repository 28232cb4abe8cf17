-- One row per user holding a privileged role (directory or Azure) by any path at the evaluation instant: their last
-- successful sign-in and whether the account is stale (PIM's StaleSignIn alert, pim-rules.md rule 14), break-glass
-- accounts aside. Microsoft's alert watches directory roles only: holds_directory_role says which rows it can see.
with

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
),

sign_ins as (
    select * from {{ ref('fct_privileged_sign_ins') }}
),

thresholds as (
    select * from {{ ref('stg_design__alert_thresholds') }}
),

break_glass_users as (
    select * from {{ ref('int_break_glass_users') }}
),

holders as (
    select
        tenant_id,
        principal_id as user_id,
        bool_or(role_system = 'entra') as holds_directory_role
    from effective_privilege
    where is_privileged_role and is_holder and principal_type = 'user'
    group by tenant_id, principal_id
),

last_sign_ins as (
    select
        tenant_id,
        user_id,
        max(signed_in_at) as last_signed_in_at
    from sign_ins
    where is_success
    group by tenant_id, user_id
),

final as (
    select
        md5(concat_ws('|', holders.tenant_id, holders.user_id)) as privileged_account_id,
        holders.tenant_id,
        holders.user_id,
        holders.holds_directory_role,
        break_glass_users.user_id is not null as is_break_glass,
        last_sign_ins.last_signed_in_at,
        date_diff('day', last_sign_ins.last_signed_in_at, {{ as_of() }}) as days_since_sign_in,
        thresholds.stale_sign_in_days,
        break_glass_users.user_id is null
        and coalesce(
            last_sign_ins.last_signed_in_at < {{ as_of() }} - to_days(thresholds.stale_sign_in_days), true
        ) as is_stale
    from holders
    cross join thresholds
    left join last_sign_ins
        on
            holders.tenant_id = last_sign_ins.tenant_id
            and holders.user_id = last_sign_ins.user_id
    left join break_glass_users
        on
            holders.tenant_id = break_glass_users.tenant_id
            and holders.user_id = break_glass_users.user_id
)

select * from final
