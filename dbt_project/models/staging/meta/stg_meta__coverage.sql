-- The latest word on each tenant's collections: could the last run read it, and if not, why.
with

source as (
    select * from {{ source('meta', 'coverage') }}
),

latest as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, collection order by checked_at desc) = 1
),

renamed as (
    select
        md5(concat_ws('|', tenant_id, collection)) as coverage_id,
        tenant_id,
        collection,
        status as coverage_status,
        status = 'ok' as is_covered,
        http_status,
        error_code,
        permission,
        rows_received,
        pages,
        requests,
        throttled,
        checked_at
    from latest
)

select * from renamed
