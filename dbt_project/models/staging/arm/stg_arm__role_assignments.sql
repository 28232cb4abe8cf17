-- Every Azure RBAC role assignment from the latest snapshot, PIM-managed or not, one row per assignment, kept once
-- across the subscriptions that list it (an assignment on a management group is inherited by each).
with

source as (
    {{ latest_snapshot('arm_role_assignments') }}
),

renamed as (
    select
        tenant_id,
        lower(id) as role_assignment_id,
        {{ arm_access_columns(schedule=false) }}
        try_cast(record -> 'properties' ->> 'createdOn' as timestamptz) as created_at,
        load_id
    from source
    qualify row_number() over (partition by tenant_id, lower(id) order by parent_key) = 1
)

select * from renamed
