with

source as (
    {{ latest_snapshot('users') }}
),

renamed as (
    select
        tenant_id,
        id as user_id,
        record ->> 'displayName' as display_name,
        record ->> 'userPrincipalName' as user_principal_name,
        record ->> 'userType' as user_type,
        record ->> 'department' as department,
        record ->> 'jobTitle' as job_title,
        record ->> 'officeLocation' as office_location,
        record ->> 'usageLocation' as usage_location,
        try_cast(record ->> 'accountEnabled' as boolean) as is_account_enabled,
        coalesce(try_cast(record ->> 'onPremisesSyncEnabled' as boolean), false) as is_synced_from_on_premises,
        try_cast(record ->> 'createdDateTime' as timestamptz) as created_at,
        load_id
    from source
)

select * from renamed
