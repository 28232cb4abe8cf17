-- Every principal a snapshot of users, service principals or groups ever held, with its type and the first UTC day
-- a run saw it. The daily effective-privilege history types a principal as of each day from this: a principal
-- deleted later keeps its type on the days it existed, and a day's rows never change once built. Reads ids only,
-- no JSON.
with

loads as (
    select
        tenant_id,
        load_id,
        {{ snapshot_day('committed_at') }} as committed_on
    from {{ source('meta', 'loads') }}
    where collection in ('users', 'service_principals', 'groups')
),

seen as (
    select
        tenant_id,
        load_id,
        id as principal_id,
        'user' as principal_type
    from {{ source('raw', 'users') }}
    union all
    select
        tenant_id,
        load_id,
        id as principal_id,
        'service_principal' as principal_type
    from {{ source('raw', 'service_principals') }}
    union all
    select
        tenant_id,
        load_id,
        id as principal_id,
        'group' as principal_type
    from {{ source('raw', 'groups') }}
),

final as (
    select
        seen.tenant_id,
        seen.principal_id,
        seen.principal_type,
        min(loads.committed_on) as first_seen_on
    from seen
    inner join loads
        on
            seen.tenant_id = loads.tenant_id
            and seen.load_id = loads.load_id
    group by all
)

select * from final
