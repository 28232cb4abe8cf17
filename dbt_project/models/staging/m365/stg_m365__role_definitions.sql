-- Intune's and Exchange Online's role definitions from their latest snapshots, one row per role system and role.
with

intune as (
    {{ latest_snapshot('intune_role_definitions') }}
),

exchange as (
    {{ latest_snapshot('exchange_role_definitions') }}
),

unioned as (
    select
        'intune' as role_system,
        tenant_id,
        id,
        record,
        load_id
    from intune
    union all
    select
        'exchange' as role_system,
        tenant_id,
        id,
        record,
        load_id
    from exchange
),

renamed as (
    select
        md5(concat_ws('|', role_system, id)) as m365_role_definition_id,
        tenant_id,
        role_system,
        id as role_definition_id,
        record ->> 'displayName' as role_name,
        coalesce(try_cast(record ->> 'isBuiltIn' as boolean), false) as is_built_in,
        coalesce(try_cast(record ->> 'isEnabled' as boolean), true) as is_enabled,
        load_id
    from unioned
)

select * from renamed
