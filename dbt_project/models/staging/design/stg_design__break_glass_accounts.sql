with

source as (
    select * from {{ source('design', 'break_glass_accounts') }}
),

renamed as (
    select lower(user_principal_name) as user_principal_name
    from source
)

select * from renamed
