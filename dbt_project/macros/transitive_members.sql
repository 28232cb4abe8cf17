{#- The latest snapshot of a `groups/{id}/transitiveMembers` fan-out (`table_name`): one row per group and member,
    nested groups expanded, the member typed by its @odata.type. -#}
{% macro transitive_members(table_name) -%}
    with

    source as (
        {{ latest_snapshot(table_name) }}
    ),

    renamed as (
        select
            tenant_id,
            md5(concat_ws('|', parent_key, id)) as group_membership_id,
            parent_key as group_id,
            id as member_id,
            {{ directory_object_type('record') }} as member_type,
            load_id
        from source
    )

    select * from renamed
{%- endmacro %}
