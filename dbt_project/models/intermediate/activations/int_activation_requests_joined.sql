{{ config(materialized='view') }}  -- fct_activation_requests reads only the requests near new events (dbt_project.yml)
-- One row per PIM activation request, its lifecycle events folded by RequestId (macros/fold_activation_requests.sql).
{{ fold_activation_requests(ref('int_audit_events_unioned')) }}
