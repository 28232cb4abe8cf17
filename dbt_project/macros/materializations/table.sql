{#
    A table is replaced in one transaction: the old one is dropped and the new one created under its name, and
    readers see one or the other (DuckDB's DDL is transactional; a failed build rolls the drop back with it).
    dbt-duckdb's table materialization builds the new table under another name, asks the catalog for foreign keys
    and indexes, renames the old table away and the new one in, commits, then drops the old one: about ten
    statements for each of the ~45 marts that every daily build rebuilds, where this takes two. It is for tables
    without foreign keys or indexes, which dbt-duckdb renames with care: a model that declares either is refused.
#}
{%- materialization table, adapter='duckdb' -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- if config.get('indexes') or 'foreign_key' in enforced_constraint_types() -%}
        {{ exceptions.raise_compiler_error(
            this ~ " declares indexes or a foreign key: pimlens' table materialization (macros/materializations/"
            ~ "table.sql) does not keep them; give the model dbt-duckdb's own materialization"
        ) }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- Inside the model's transaction (auto_begin), unlike dbt-duckdb's drop_relation, which commits at once. -#}
    {%- if existing_relation is not none -%}
        {% call statement('drop_existing') -%}
            drop {{ existing_relation.type }} if exists {{ existing_relation }}
        {%- endcall %}
        {% do adapter.cache_dropped(existing_relation) %}
    {%- endif -%}

    {% call statement('main') -%}
        {{ create_table_as(False, target_relation, sql) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}
