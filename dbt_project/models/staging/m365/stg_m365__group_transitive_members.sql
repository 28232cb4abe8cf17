-- Everyone inside each group that holds an Intune or Exchange role, nested groups expanded; one row per group and
-- member. Both systems assign roles to any security group, role-assignable or not.
{{ transitive_members('m365_group_transitive_members') }}
