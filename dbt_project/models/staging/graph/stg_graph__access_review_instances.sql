with

source as (
    {{ latest_snapshot('access_review_instances') }}
),

renamed as (
    select
        tenant_id,
        id as review_instance_id,
        parent_key as review_definition_id,
        record ->> 'status' as status,
        try_cast(record ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
)

select * from renamed
