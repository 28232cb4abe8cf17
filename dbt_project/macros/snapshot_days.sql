{#
    The daily marts (fct_effective_privilege_daily, fct_privileged_access_daily) are incremental by snapshot day:
    a day's rows depend only on that day's snapshots and on the role classification and design they are judged by.
    A run derives again the days on which a load committed since the last build (each row keeps the newest commit
    the build that wrote it could see, loads_committed_through): a day's snapshot is its last load, so only those
    days can have changed. When the classification or design (`fingerprint`, stored with the rows as
    design_fingerprint) differs from what the stored rows were built with, every day is derived again, so an
    incremental build still equals a full rebuild.
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
    {#- A table built by an older definition, without these columns, is not seen here: the scheduled build drops it
        first and derives it whole (pipelines/lib/warehouse/model_upgrades.py). -#}
    {%- set query -%}
        with built as (
            select
                any_value(design_fingerprint) as design_fingerprint,
                max(loads_committed_through) as loads_committed_through
            from {{ this }}
        )

        select
            case
                -- Also an empty table: nothing was built, so everything is due.
                when built.design_fingerprint is distinct from {{ fingerprint }} then date '{{ everything }}'
                -- No load since: nothing to derive (a day after any snapshot).
                else coalesce(min({{ snapshot_day('loads.committed_at') }}), date '9999-12-31')
            end as first_day
        from built
        left join {{ loads }} as loads
            on loads.committed_at > built.loads_committed_through
        group by built.design_fingerprint
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] | string) }}
{%- endmacro %}

{#- The newest load commit a build can see, stored with each row it writes (first_snapshot_day_to_build). -#}
{% macro loads_committed_through() -%}
    (select max(loads.committed_at) from {{ source('meta', 'loads') }} as loads)
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
