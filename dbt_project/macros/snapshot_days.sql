{#
    The daily marts (fct_effective_privilege_daily, fct_privileged_access_daily) are incremental by snapshot day:
    a day's rows depend only on that day's snapshots and on the role classification and design they are judged by.
    A run rebuilds the days from the oldest of the tenants' newest built days on. A load commits on the day it
    lands, so only a tenant's newest built day can gain a later load; the days before it never change. When the
    classification or design (`fingerprint`, stored with the rows as design_fingerprint) differs from what the stored
    rows were built with, every day is rebuilt, so an incremental build still equals a full rebuild.
    The first day is returned as a literal, not a subquery: DuckDB then prunes the skipped days' snapshots before it
    parses their JSON, which is what keeps a daily run flat as history grows.
#}
{% macro first_snapshot_day_to_build(fingerprint) -%}
    {%- set everything = '0001-01-01' -%}
    {#- Referenced before the early return, so that dbt's parse records the dependency. -#}
    {%- set loads = source('meta', 'loads') -%}
    {#- A dbt unit test has no `this`: it derives every day it is given. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(everything) }}
    {%- endif -%}
    {#- A table built before the fingerprint existed is rebuilt whole; the column is added on the way in. -#}
    {%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'design_fingerprint' not in stored_columns -%}
        {{ return(everything) }}
    {%- endif -%}
    {%- set query -%}
        select
            case
                when (select any_value(built.design_fingerprint) from {{ this }} as built)
                    is distinct from {{ fingerprint }}
                    then date '{{ everything }}'
                else min(coalesce(built_days.newest_day, date '{{ everything }}'))
            end as first_day
        from (select distinct tenant_id from {{ loads }}) as tenants
        left join (
            select
                tenant_id,
                max(snapshot_date) as newest_day
            from {{ this }}
            group by tenant_id
        ) as built_days
            on tenants.tenant_id = built_days.tenant_id
    {%- endset -%}
    {%- set first_day = run_query(query).columns[0].values()[0] -%}
    {{ return(everything if first_day is none else first_day | string) }}
{%- endmacro %}

{#- What fct_effective_privilege_daily's rows are judged by besides the day's snapshots: each role's name, flag and
    resolved tier. -#}
{% macro effective_privilege_daily_fingerprint() -%}
    (
        select md5(coalesce(string_agg(cast(roles as varchar), '|' order by cast(roles as varchar)), ''))
        from (
            select
                tenant_id,
                role_definition_id,
                role_name,
                is_privileged_microsoft,
                tier
            from {{ ref('dim_role_classification') }}
        ) as roles
    )
{%- endmacro %}

{#- What fct_privileged_access_daily's rows are judged by besides the day's snapshots: which roles are privileged,
    the rollout waves and the baseline date. -#}
{% macro privileged_access_daily_fingerprint() -%}
    (
        select md5(coalesce(string_agg(rules.rule_text, '|' order by rules.rule_text), ''))
        from (
            select 'role ' || concat_ws(' ', roles.tenant_id, roles.role_definition_id, roles.is_privileged) as rule_text
            from {{ ref('dim_roles') }} as roles
            union all
            select 'wave ' || cast(waves as varchar)
            from {{ ref('stg_design__rollout_waves') }} as waves
            union all
            -- The baseline only: the programme row also says when the design file was loaded, which is every run.
            select 'baseline ' || coalesce(cast(programme.baseline_date as varchar), '')
            from {{ ref('stg_design__programme') }} as programme
        ) as rules
    )
{%- endmacro %}
