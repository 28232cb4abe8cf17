-- Everyone inside each group that holds an Azure role, nested groups expanded; one row per group and member.
-- Azure RBAC reaches through any security group, nested ones included (role-assignable groups cannot nest).
{{ transitive_members('arm_group_transitive_members') }}
