with

source as (
    select * from {{ source('design', 'tenants') }}
),

renamed as (
    select
        tenant_id,
        tenant_name
    from source
)

select * from renamed
