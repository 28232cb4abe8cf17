{#
    Incremental marts downstream of another incremental mart need to know which upstream rows changed since they
    were last built. Every such mart stamps the rows it writes with the dbt invocation's start time
    (`refreshed_at`), and a downstream model takes the upstream rows stamped after the newest stamp in its own
    table. A downstream build that failed simply catches up on the next run: its own newest stamp did not move.
#}

{% macro refreshed_at() -%}
    cast('{{ run_started_at }}' as timestamptz)
{%- endmacro %}

{% macro refreshed_since_last_build(column) -%}
    {{ column }} > (select coalesce(max(built.refreshed_at), '-infinity'::timestamptz) from {{ this }} as built)
{%- endmacro %}

{#
    What the activation marts judge requests by, other than the audit log: the design's thresholds and tier
    requirements, the resolved role tiers, role names and flags, and the generic-words seed. When any of it changed
    since fct_activation_requests was last built, that model refolds every request, and the marts downstream
    follow through refreshed_at: an incremental build after a design change equals a full rebuild.
#}
{% macro activation_rules_fingerprint() -%}
    (
        select md5(string_agg(rules.rule_text, '|' order by rules.rule_text))
        from (
            select 'thresholds ' || cast(thresholds as varchar) as rule_text
            from {{ ref('stg_design__alert_thresholds') }} as thresholds
            union all
            select 'requirement ' || cast(requirements as varchar)
            from {{ ref('stg_design__tier_requirements') }} as requirements
            union all
            select 'tier ' || cast(tiers as varchar)
            from {{ ref('int_role_tiers_resolved') }} as tiers
            union all
            select
                'role '
                || concat_ws(' ', roles.tenant_id, roles.role_definition_id, roles.role_name, roles.is_privileged)
            from {{ ref('dim_roles') }} as roles
            union all
            select 'generic ' || words.word
            from {{ ref('generic_justification_words') }} as words
        ) as rules
    )
{%- endmacro %}
