{#- Whether a user is one of the design's registered break-glass accounts (int_break_glass_users), which every rule of
    "no standing or stale privileged access" leaves aside. The calling model imports int_break_glass_users as the
    CTE break_glass_users. -#}
{% macro is_break_glass_user(tenant_id, user_id) -%}
    exists (
        select 1
        from break_glass_users
        where
            break_glass_users.tenant_id = {{ tenant_id }}
            and break_glass_users.user_id = {{ user_id }}
    )
{%- endmacro %}
