with

source as (
    {{ latest_snapshot('groups') }}
),

renamed as (
    select
        tenant_id,
        id as group_id,
        record ->> 'displayName' as display_name,
        coalesce(try_cast(record ->> 'isAssignableToRole' as boolean), false) as is_assignable_to_role,
        try_cast(record ->> 'securityEnabled' as boolean) as is_security_enabled,
        try_cast(record ->> 'createdDateTime' as timestamptz) as created_at,
        load_id
    from source
)

select * from renamed
