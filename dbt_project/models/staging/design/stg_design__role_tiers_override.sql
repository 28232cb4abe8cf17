with

source as (
    select * from {{ source('design', 'role_tiers_override') }}
),

renamed as (
    select
        template_id,
        tier
    from source
)

select * from renamed
