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
        {{ arm_access_columns() }}
        load_id
    from source
    qualify row_number() over (partition by tenant_id, lower(id) order by parent_key) = 1
)

select * from renamed
