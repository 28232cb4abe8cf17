-- The users the design registers as break-glass accounts (by user principal name, case aside).
with

users as (
    select * from {{ ref('stg_graph__users') }}
),

break_glass_accounts as (
    select * from {{ ref('stg_design__break_glass_accounts') }}
),

final as (
    select
        users.tenant_id,
        users.user_id
    from users
    inner join break_glass_accounts
        on lower(users.user_principal_name) = break_glass_accounts.user_principal_name
)

select * from final
