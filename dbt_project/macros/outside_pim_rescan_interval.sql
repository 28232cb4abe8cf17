{#- How long after an assignment made outside PIM PIM's alert scanner can write it again: the reference measured
    repeats 1 h 58 min to 2 h 26 min apart (graph-pim-real-world.md section 5), so three hours. An outside-PIM row
    within this of the audit log's first event may be a repeat of an older assignment, not its making
    (int_access_changes_audited). -#}
{% macro outside_pim_rescan_interval() -%}
    interval 3 hour
{%- endmacro %}
