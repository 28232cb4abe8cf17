-- Eligible Azure role assignments (PIM for Azure resources) from the latest snapshot, one row per instance. A
-- subscription's listing also holds what is inherited from its management groups, so an instance read under two
-- subscriptions is kept once. The role is its definition's GUID (the last segment of the ARM id, which differs per
-- scope for one role); the scope is the ARM path, in the column the directory models call directory_scope_id.
with

source as (
    {{ latest_snapshot('arm_role_eligibility_schedule_instances') }}
),

renamed as (
    select
        tenant_id,
        lower(id) as eligibility_instance_id,
        record -> 'properties' ->> 'principalId' as principal_id,
        record -> 'properties' ->> 'principalType' as principal_type,
        lower(regexp_extract(record -> 'properties' ->> 'roleDefinitionId', '[^/]+$')) as role_definition_id,
        record -> '$.properties.expandedProperties.roleDefinition' ->> 'displayName' as role_name,
        record -> 'properties' ->> 'scope' as directory_scope_id,
        record -> 'properties' ->> 'memberType' as member_type,
        try_cast(record -> 'properties' ->> 'startDateTime' as timestamptz) as start_at,
        try_cast(record -> 'properties' ->> 'endDateTime' as timestamptz) as end_at,
        load_id
    from source
    qualify row_number() over (partition by tenant_id, lower(id) order by parent_key) = 1
)

select * from renamed
