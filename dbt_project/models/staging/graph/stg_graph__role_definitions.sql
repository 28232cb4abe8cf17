with

source as (
    {{ latest_snapshot('role_definitions') }}
),

renamed as (
    select
        tenant_id,
        id as role_definition_id,
        record ->> 'displayName' as role_name,
        record ->> 'templateId' as template_id,
        try_cast(record ->> 'isBuiltIn' as boolean) as is_built_in,
        try_cast(record ->> 'isEnabled' as boolean) as is_enabled,
        -- Only beta carries isPrivileged; a missing flag means Microsoft did not say, not "not privileged".
        try_cast(record ->> 'isPrivileged' as boolean) as is_privileged,
        load_id
    from source
)

select * from renamed
