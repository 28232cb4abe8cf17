-- Effective privilege in the latest snapshot: every path by which a user or service principal holds a directory
-- role, directly or through a role-assignable group (plain membership or PIM for Groups), with its state and
-- window. One row per principal x role x scope x path.
with

effective_privilege as (
    {{ effective_privilege_paths(ref('int_access_rows_unioned'), ref('int_group_memberships_unioned')) }}
)

select * from effective_privilege
