{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'audit_event_id'],
        incremental_strategy='append',
    )
}}
-- PIM audit events, one row per event id. Landing already keeps one copy of each event across the look-back
-- overlap of successive loads (pipelines/lib/warehouse/landing.py; the fault tests check raw tables for
-- duplicates), so this model does not deduplicate again: a window over every raw record was a third of a full
-- build's time here and most of its memory at 10M requests, and an anti-join of each day's load against every
-- stored id took 25 s of a 10M daily build. The unique test below fails loudly if a copy ever slips through.
-- A table, not a view, and incremental: the log only grows, and parsing its JSON once per load instead of once
-- per downstream model and test is what keeps a 10M-request build inside its time budget (docs/benchmarks.md).
with

source as (
    select raw_audits.* from {{ source('raw', 'directory_audits') }} as raw_audits
    {% if is_incremental() %}
        -- The loads not built yet, whatever order they committed in: tenants land independently, and a load's id
        -- sorts by when its extraction started, not when it committed. They are picked from the small load manifest
        -- first: DuckDB then prunes the raw table's row groups by load id, where a `not in` straight on the raw
        -- table read every stored record's JSON (0.6 s of each daily run at 1M requests, for no new row).
        where raw_audits.load_id in (
            select loads.load_id from {{ source('meta', 'loads') }} as loads
            where
                loads.collection = 'directory_audits'
                and loads.load_id not in (select distinct built.load_id from {{ this }} as built)
        )
    {% endif %}
),

-- The JSON is parsed once into a struct of the fields below: every `->>` would parse the whole record again, and
-- this model is the biggest parse of the build (docs/benchmarks.md). Fields of other types read as null.
-- Only the fields the marts read are parsed and stored: at 10M requests writing this table cost more than parsing
-- it, and each unused text column (category, service, result reason, correlation id, app name) added to both.
-- The raw record keeps every field.
parsed as (
    select
        tenant_id,
        id,
        load_id,
        json_transform(
            record,
            '{
                "activityDisplayName": "VARCHAR",
                "activityDateTime": "VARCHAR",
                "result": "VARCHAR",
                "initiatedBy": {"user": {"id": "VARCHAR"}},
                "targetResources": [{"id": "VARCHAR", "type": "VARCHAR"}],
                "additionalDetails": [{"key": "VARCHAR", "value": "VARCHAR"}]
            }'
        ) as audit_fields
    from source
),

renamed as (
    select
        parsed.tenant_id,
        parsed.id as audit_event_id,
        parsed.audit_fields.activitydisplayname as activity_display_name,
        cast(parsed.audit_fields.activitydatetime as timestamptz) as activity_at,
        parsed.audit_fields.result,
        parsed.audit_fields.initiatedby.user.id as initiated_by_user_id,
        -- Targets are a list whose order Microsoft does not promise; pick each by its type.
        list_filter(
            parsed.audit_fields.targetresources, lambda target: target.type = 'Role'
        )[1].id as role_definition_id,
        list_filter(
            parsed.audit_fields.targetresources, lambda target: target.type in ('User', 'Group', 'ServicePrincipal')
        )[1].id as principal_id,
        list_filter(
            parsed.audit_fields.additionaldetails, lambda detail: detail.key = 'RequestId'
        )[1].value as request_id,
        list_filter(
            parsed.audit_fields.additionaldetails, lambda detail: detail.key = 'Justification'
        )[1].value as justification,
        -- StartTime / ExpirationTime: the requested span on a request event, the granted one on a completed event.
        try_cast(list_filter(
            parsed.audit_fields.additionaldetails, lambda detail: detail.key = 'StartTime'
        )[1].value as timestamptz) as schedule_start_at,
        try_cast(list_filter(
            parsed.audit_fields.additionaldetails, lambda detail: detail.key = 'ExpirationTime'
        )[1].value as timestamptz) as schedule_end_at,
        parsed.load_id
    from parsed
)

select * from renamed
