-- Every tenant the warehouse holds rows of or the configuration lists, with the name the configuration gives it.
with

coverage as (
    select * from {{ ref('stg_meta__coverage') }}
),

configured as (
    select * from {{ ref('stg_design__tenants') }}
),

tenants as (
    select distinct tenant_id from coverage
    union
    select configured.tenant_id from configured
    where
        not exists (
            select 1 from coverage
            where lower(coverage.tenant_id) = lower(configured.tenant_id)
        )
),

final as (
    select
        {{ star_key(['tenants.tenant_id']) }} as tenant_key,
        tenants.tenant_id,
        coalesce(configured.tenant_name, tenants.tenant_id) as tenant_name,
        configured.tenant_id is not null as is_configured
    from tenants
    left join configured
        on lower(tenants.tenant_id) = lower(configured.tenant_id)
)

select * from final
