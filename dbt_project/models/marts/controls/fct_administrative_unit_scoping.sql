-- The share of privileged access scoped to administrative units (docs/metrics.md, "Controls coverage"): per
-- privileged directory role held, its distinct holder and role pairs (holders by any path, groups expanded to their
-- members, owners never counted), those held at administrative units only (a pair also held tenant-wide or at an
-- application is not limited by its units), and the units it is held at, by name. One row per tenant and role.
with

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    where role_system = 'entra' and is_privileged_role and is_holder
),

units as (
    select * from {{ ref('stg_graph__administrative_units') }}
),

pairs as (
    select
        tenant_id,
        role_definition_id,
        principal_id,
        bool_and(scope_type = 'administrative_unit') as is_unit_scoped
    from effective_privilege
    group by tenant_id, role_definition_id, principal_id
),

held_units as (
    select distinct
        effective_privilege.tenant_id,
        effective_privilege.role_definition_id,
        effective_privilege.directory_scope_id,
        coalesce(units.display_name, replace(effective_privilege.directory_scope_id, '/administrativeUnits/', ''))
            as unit_name
    from effective_privilege
    left join units
        on
            effective_privilege.tenant_id = units.tenant_id
            and effective_privilege.directory_scope_id = units.directory_scope_id
    where effective_privilege.scope_type = 'administrative_unit'
),

unit_names as (
    select
        tenant_id,
        role_definition_id,
        count(distinct directory_scope_id) as administrative_units,
        string_agg(distinct unit_name, ', ' order by unit_name) as administrative_unit_names
    from held_units
    group by tenant_id, role_definition_id
),

role_names as (
    select
        tenant_id,
        role_definition_id,
        any_value(role_name) as role_name,
        any_value(tier) as tier
    from effective_privilege
    group by tenant_id, role_definition_id
),

per_role as (
    select
        tenant_id,
        role_definition_id,
        count(*) as holder_role_pairs,
        count(*) filter (where is_unit_scoped) as administrative_unit_pairs
    from pairs
    group by tenant_id, role_definition_id
),

final as (
    select
        md5(concat_ws('|', per_role.tenant_id, per_role.role_definition_id)) as administrative_unit_scoping_id,
        per_role.tenant_id,
        per_role.role_definition_id,
        role_names.role_name,
        role_names.tier,
        per_role.holder_role_pairs,
        per_role.administrative_unit_pairs,
        per_role.administrative_unit_pairs / per_role.holder_role_pairs as administrative_unit_share,
        coalesce(unit_names.administrative_units, 0) as administrative_units,
        unit_names.administrative_unit_names
    from per_role
    inner join role_names
        on
            per_role.tenant_id = role_names.tenant_id
            and per_role.role_definition_id = role_names.role_definition_id
    left join unit_names
        on
            per_role.tenant_id = unit_names.tenant_id
            and per_role.role_definition_id = unit_names.role_definition_id
)

select * from final
