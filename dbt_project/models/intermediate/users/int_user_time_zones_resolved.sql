-- The zone each user's local time is judged in, and where it came from (docs/metrics.md, "Local time"):
-- 1. mailbox: mailboxSettings.timeZone, a Windows name mapped to IANA by the windows_time_zones seed (tzlocal's
--    CLDR mapping) or an IANA name DuckDB knows, kept as it is; if that does not resolve, the name of the
--    working-hours zone the same way. A custom zone ("Customized Time Zone", an offset and daylight rules) is not
--    used: Graph's documentation and its payloads disagree on the sign of its offset.
-- 2. country: the design's business_hours.time_zones_by_usage_location for the user's usageLocation.
-- 3. default: the design's business_hours.default_time_zone.
with

users as (
    select * from {{ ref('stg_graph__users') }}
),

mailboxes as (
    select * from {{ ref('stg_graph__user_mailbox_settings') }}
),

windows_time_zones as (
    select * from {{ ref('windows_time_zones') }}
),

country_time_zones as (
    select * from {{ ref('stg_design__business_time_zones') }}
),

business_hours as (
    select * from {{ ref('stg_design__business_hours') }}
),

iana_time_zones as (
    select name as iana_time_zone from pg_timezone_names()
),

-- A zone name as an IANA name: a Windows name through the seed, an IANA name as it is, anything else null.
mailbox_zones as (
    select
        mailboxes.tenant_id,
        mailboxes.user_id,
        mailboxes.read_at,
        mailboxes.has_mailbox,
        mailboxes.mailbox_time_zone,
        coalesce(
            windows_named.iana_time_zone,
            iana_named.iana_time_zone,
            working_windows_named.iana_time_zone,
            working_iana_named.iana_time_zone
        ) as resolved_time_zone
    from mailboxes
    left join windows_time_zones as windows_named
        on mailboxes.mailbox_time_zone = windows_named.windows_time_zone
    left join iana_time_zones as iana_named
        on mailboxes.mailbox_time_zone = iana_named.iana_time_zone
    left join windows_time_zones as working_windows_named
        on
            mailboxes.working_hours_time_zone = working_windows_named.windows_time_zone
            and not mailboxes.is_custom_working_hours_time_zone
    left join iana_time_zones as working_iana_named
        on
            mailboxes.working_hours_time_zone = working_iana_named.iana_time_zone
            and not mailboxes.is_custom_working_hours_time_zone
),

final as (
    select
        users.tenant_id,
        users.user_id,
        coalesce(mailbox_zones.resolved_time_zone, country_time_zones.time_zone, business_hours.default_time_zone)
            as time_zone,
        case
            when mailbox_zones.resolved_time_zone is not null then 'mailbox'
            when country_time_zones.time_zone is not null then 'country'
            else 'default'
        end as time_zone_source,
        mailbox_zones.has_mailbox,
        mailbox_zones.mailbox_time_zone,
        mailbox_zones.read_at as mailbox_read_at
    from users
    cross join business_hours
    left join mailbox_zones
        on
            users.tenant_id = mailbox_zones.tenant_id
            and users.user_id = mailbox_zones.user_id
    left join country_time_zones
        on users.usage_location = country_time_zones.usage_location
)

select * from final
