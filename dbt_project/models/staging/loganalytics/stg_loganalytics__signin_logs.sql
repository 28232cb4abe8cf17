-- Sign-ins, one row per id: the look-back window can land a sign-in twice across loads.
with

source as (
    select * from {{ source('raw', 'la_signin_logs') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, id order by load_id) = 1
),

renamed as (
    select
        tenant_id,
        id as signin_id,
        try_cast(record ->> 'TimeGenerated' as timestamptz) as signed_in_at,
        record ->> 'UserId' as user_id,
        record ->> 'AppDisplayName' as app_name,
        record ->> 'IPAddress' as ip_address,
        coalesce(record ->> 'ResultType', '') = '0' as is_success,
        record ->> 'AuthenticationRequirement' = 'multiFactorAuthentication' as is_mfa,
        record ->> 'ConditionalAccessStatus' as conditional_access_status,
        load_id
    from deduplicated
)

select * from renamed
