-- Who holds privilege, counted the way the anchors count heads (docs/metrics.md, "Head-counts"): role-assignable
-- groups expanded to their members (plain, PIM for Groups eligible and active), users and service principals
-- counted apart, each count split by the path that gives the principals their roles. One row per tenant x
-- head-count x principal type x path kind; path_kind 'any' is the head-count itself (each principal once).
-- Group owners are a path of their own, reported (is_holder_path false) but never counted in 'any'.
with

effective_privilege as (
    select * from {{ ref('fct_effective_privilege') }}
    -- Directory roles: Azure access has marts and metrics of its own (docs/metrics.md, "Azure").
    where role_system = 'entra'
),

roles as (
    select * from {{ ref('dim_roles') }}
),

over_privileged as (
    select * from {{ ref('fct_over_privileged_principals') }}
),

-- The paths each head-count is about: on Global Administrator, on any privileged role, and the privileged-role
-- paths of the principals fct_over_privileged_principals flags.
counted_paths as (
    select
        'global_admins' as head_count,
        effective_privilege.*
    from effective_privilege
    inner join roles
        on
            effective_privilege.tenant_id = roles.tenant_id
            and effective_privilege.role_definition_id = roles.role_definition_id
    where roles.template_id = '62e90394-69f5-4237-9190-012177145e10'
    union all
    select
        'privileged_principals' as head_count,
        effective_privilege.*
    from effective_privilege
    where effective_privilege.is_privileged_role
    union all
    select
        'over_privileged_principals' as head_count,
        effective_privilege.*
    from effective_privilege
    where
        effective_privilege.is_privileged_role
        and exists (
            select 1
            from over_privileged
            where
                over_privileged.tenant_id = effective_privilege.tenant_id
                and over_privileged.principal_id = effective_privilege.principal_id
        )
),

by_path as (
    select
        tenant_id,
        head_count,
        principal_type,
        path_kind,
        bool_and(is_holder) as is_holder_path,
        count(distinct principal_id) as principals
    from counted_paths
    group by tenant_id, head_count, principal_type, path_kind
),

any_path as (
    select
        tenant_id,
        head_count,
        principal_type,
        'any' as path_kind,
        true as is_holder_path,
        count(distinct principal_id) as principals
    from counted_paths
    where is_holder
    group by tenant_id, head_count, principal_type
),

unioned as (
    select * from by_path
    union all
    select * from any_path
),

final as (
    select
        md5(concat_ws('|', tenant_id, head_count, principal_type, path_kind)) as head_count_id,
        tenant_id,
        head_count,
        principal_type,
        path_kind,
        is_holder_path,
        principals
    from unioned
)

select * from final
