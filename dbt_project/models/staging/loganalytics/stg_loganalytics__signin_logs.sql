-- Sign-ins, one row per id: the look-back window can land a sign-in twice across loads. LocationDetails and
-- DeviceDetail are dynamic columns, which Log Analytics answers as JSON text.
with

source as (
    select * from {{ source('raw', 'la_signin_logs') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, id order by load_id) = 1
),

details as (
    select
        *,
        case when json_valid(record ->> 'LocationDetails') then record ->> 'LocationDetails' end as location_json,
        case when json_valid(record ->> 'DeviceDetail') then record ->> 'DeviceDetail' end as device_json
    from deduplicated
),

renamed as (
    select
        tenant_id,
        id as signin_id,
        try_cast(record ->> 'TimeGenerated' as timestamptz) as signed_in_at,
        record ->> 'UserId' as user_id,
        record ->> 'UserPrincipalName' as user_principal_name,
        record ->> 'AppDisplayName' as app_name,
        record ->> 'IPAddress' as ip_address,
        coalesce(record ->> 'ResultType', '') = '0' as is_success,
        record ->> 'AuthenticationRequirement' = 'multiFactorAuthentication' as is_mfa,
        record ->> 'ConditionalAccessStatus' as conditional_access_status,
        coalesce(try_cast(record ->> 'IsInteractive' as boolean), false) as is_interactive,
        coalesce(
            nullif(json_extract_string(location_json, '$.countryOrRegion'), ''), nullif(record ->> 'Location', '')
        ) as country,
        nullif(json_extract_string(device_json, '$.deviceId'), '') as device_id,
        json_extract_string(device_json, '$.operatingSystem') as operating_system,
        json_extract_string(device_json, '$.browser') as browser,
        load_id
    from details
),

-- The network a sign-in came from: an IPv4 address's /24, an IPv6 address's first three groups (/48).
-- A device not registered in Entra ID has no id: its operating system and browser tell it apart.
final as (
    select
        *,
        case
            when ip_address similar to '\d+\.\d+\.\d+\.\d+' then regexp_extract(ip_address, '^(\d+\.\d+\.\d+)\.', 1)
            when contains(ip_address, ':') then array_to_string(string_split(ip_address, ':')[1:3], ':')
        end as ip_range,
        coalesce(device_id, concat_ws(' / ', operating_system, browser)) as device_key
    from renamed
)

select * from final
