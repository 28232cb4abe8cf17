-- Access review definitions: what each reviews, how often, for how long, and whether decisions apply themselves.
with

source as (
    {{ latest_snapshot('access_review_definitions') }}
),

renamed as (
    select
        tenant_id,
        id as review_definition_id,
        record ->> 'displayName' as review_name,
        record ->> 'status' as status,
        record ->> '$.scope.query' as scope_query,
        -- A review of a directory role scopes its eligible or active instances by role definition id
        -- (graph-pim.md section 6); a review of anything else has no role here.
        nullif(regexp_extract(record ->> '$.scope.query', 'roleDefinitionId eq ''([^'']+)''', 1), '')
            as role_definition_id,
        record ->> '$.settings.recurrence.pattern.type' as recurrence_pattern_type,
        try_cast(record ->> '$.settings.recurrence.pattern.interval' as integer) as recurrence_interval,
        try_cast(record ->> '$.settings.instanceDurationInDays' as integer) as instance_duration_days,
        try_cast(record ->> '$.settings.autoApplyDecisionsEnabled' as boolean) as is_auto_apply_enabled,
        try_cast(record ->> '$.settings.justificationRequiredOnApproval' as boolean) as is_justification_required,
        try_cast(record ->> 'createdDateTime' as timestamptz) as created_at,
        load_id
    from source
)

select * from renamed
