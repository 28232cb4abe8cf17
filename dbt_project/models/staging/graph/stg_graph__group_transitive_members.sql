-- Everyone inside each role-assignable group, nested groups expanded; one row per group and member.
{{ transitive_members('group_transitive_members') }}
