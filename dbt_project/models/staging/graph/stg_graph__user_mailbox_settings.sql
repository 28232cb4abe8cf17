-- Each user's latest mailbox-settings read. The collection is read per privileged user and only when their last
-- read is a week old, so a load holds only the users it read: the latest row per user is taken across loads,
-- not from the latest load.
with

source as (
    select * from {{ source('raw', 'user_mailbox_settings') }}
),

latest as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, id order by load_id desc) = 1
),

renamed as (
    select
        tenant_id,
        id as user_id,
        loaded_at as read_at,
        -- Graph's 404 MailboxNotEnabledForRESTAPI, kept as the record: the user has no mailbox.
        record ->> '$.error.code' is null as has_mailbox,
        record ->> 'timeZone' as mailbox_time_zone,
        record ->> '$.workingHours.timeZone.name' as working_hours_time_zone,
        coalesce(record ->> '$.workingHours.timeZone."@odata.type"' = '#microsoft.graph.customTimeZone', false)
            as is_custom_working_hours_time_zone,
        load_id
    from latest
)

select * from renamed
