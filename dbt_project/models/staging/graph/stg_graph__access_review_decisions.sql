-- Every decision of every access review instance, with who reviewed whom and whether it was applied.
with

source as (
    {{ latest_snapshot('access_review_decisions') }}
),

renamed as (
    select
        tenant_id,
        md5(concat_ws('|', parent_key, id)) as review_decision_id,
        split_part(parent_key, '/', 1) as review_definition_id,
        split_part(parent_key, '/', 2) as review_instance_id,
        record ->> 'decision' as decision,
        record ->> 'recommendation' as recommendation,
        record ->> 'applyResult' as apply_result,
        record ->> '$.principal.id' as principal_id,
        record ->> '$.resource.id' as resource_id,
        record ->> '$.resource.type' as resource_type,
        record ->> '$.reviewedBy.id' as reviewed_by_id,
        try_cast(record ->> 'reviewedDateTime' as timestamptz) as reviewed_at,
        try_cast(record ->> 'appliedDateTime' as timestamptz) as applied_at,
        load_id
    from source
)

select * from renamed
