{#- A justification cites a ticket: a change, incident or request number (CHG0042, INC123, ABC-12), the one
    pattern fct_activation_justifications and fct_activation_verdicts judge by. -#}
{% macro has_ticket_reference(text) -%}
    regexp_matches({{ text }}, '(?i)\b([a-z]{2,}-\d+|(chg|inc|ritm|req|sr|task)\d+)\b')
{%- endmacro %}
