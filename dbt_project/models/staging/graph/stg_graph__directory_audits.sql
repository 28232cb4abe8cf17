-- PIM audit events, one row per event id: the look-back window can land an event twice across loads.
with

source as (
    select * from {{ source('raw', 'directory_audits') }}
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
        cast(record ->> 'activityDateTime' as timestamptz) as activity_at,
        record ->> 'category' as category,
        record ->> 'loggedByService' as logged_by_service,
        record ->> 'result' as result,
        record ->> 'resultReason' as result_reason,
        record ->> 'correlationId' as correlation_id,
        record ->> '$.initiatedBy.user.id' as initiated_by_user_id,
        record ->> '$.initiatedBy.app.displayName' as initiated_by_app_name,
        -- Targets are a list whose order Microsoft does not promise; pick each by its type.
        list_filter(
            cast(record -> 'targetResources' as json[]), lambda target: (target ->> 'type') = 'Role'
        )[1] ->> 'id' as role_definition_id,
        list_filter(
            cast(record -> 'targetResources' as json[]),
            lambda target: (target ->> 'type') in ('User', 'Group', 'ServicePrincipal')
        )[1] ->> 'id' as principal_id,
        list_filter(
            cast(record -> 'additionalDetails' as json[]), lambda detail: (detail ->> 'key') = 'RequestId'
        )[1] ->> 'value' as request_id,
        list_filter(
            cast(record -> 'additionalDetails' as json[]), lambda detail: (detail ->> 'key') = 'Justification'
        )[1] ->> 'value' as justification,
        load_id
    from deduplicated
)

select * from renamed
