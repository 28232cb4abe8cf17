-- Everyday admin tasks logged by Core Directory (Update user, Reset user password, ...), one row per event id:
-- the look-back window can land an event twice across loads. A view: the stream is small beside PIM's own
-- events, which get an incremental table (stg_graph__directory_audits).
with

source as (
    select * from {{ source('raw', 'directory_admin_audits') }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (partition by tenant_id, id order by load_id) = 1
),

renamed as (
    select
        tenant_id,
        id as audit_event_id,
        record ->> 'activityDisplayName' as activity_display_name,
        try_cast(record ->> 'activityDateTime' as timestamptz) as activity_at,
        record ->> 'category' as category,
        record ->> 'loggedByService' as logged_by_service,
        record ->> 'result' as result,
        record ->> '$.initiatedBy.user.id' as initiated_by_user_id,
        record ->> '$.initiatedBy.app.displayName' as initiated_by_app_name,
        load_id
    from deduplicated
)

select * from renamed
