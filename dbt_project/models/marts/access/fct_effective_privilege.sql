-- Effective privilege in the latest snapshot: every path by which a user or service principal holds a directory
-- role or an Azure role, directly or through a group (a role-assignable group's plain membership or PIM for
-- Groups; for Azure also any security group, nested groups expanded), with its state and window. One row per
-- principal x role x scope x path; role_system says which (entra or azure).
with

entra as (
    {{ effective_privilege_paths(ref('int_access_rows_unioned'), ref('int_group_memberships_unioned')) }}
),

azure as (
    {{ effective_privilege_paths(
        ref('int_azure_access_rows'),
        ref('int_azure_group_memberships'),
        role_system='azure',
        roles=ref('int_azure_roles_classified'),
    ) }}
),

final as (
    select * from entra
    union all
    select * from azure
)

select * from final
