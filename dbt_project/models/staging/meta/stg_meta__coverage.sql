-- The latest word on each tenant's collections: could the last run read it, and if not, why. A collection read
-- fine but whose latest load the models may read (not held by a raw gate) is older than the design's
-- data_quality.max_collection_age is stale: not covered either, so the metrics that need it read unknown.
with

source as (
    select * from {{ source('meta', 'coverage') }}
),

loads as (
    select * from {{ source('meta', 'loads') }}
),

held_loads as (
    select * from {{ ref('stg_meta__held_loads') }}
),

limits as (
    select * from {{ ref('stg_design__data_quality') }}
),

readable as (
    select
        tenant_id,
        collection,
        max(committed_at) as last_readable_at
    from loads
    where load_id not in (select held_loads.load_id from held_loads)
    group by tenant_id, collection
),

latest as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, collection order by checked_at desc) = 1
),

latest_with_age as (
    select
        latest.*,
        readable.last_readable_at,
        readable.last_readable_at >= now() - to_seconds(limits.max_collection_age_seconds) as is_fresh
    from latest
    left join readable on latest.tenant_id = readable.tenant_id and latest.collection = readable.collection
    cross join limits
),

renamed as (
    select
        md5(concat_ws('|', tenant_id, collection)) as coverage_id,
        tenant_id,
        collection,
        status as coverage_status,
        status = 'ok' and coalesce(is_fresh, false) as is_covered,
        is_fresh,
        last_readable_at,
        http_status,
        error_code,
        permission,
        rows_received,
        pages,
        requests,
        throttled,
        checked_at
    from latest_with_age
)

select * from renamed
