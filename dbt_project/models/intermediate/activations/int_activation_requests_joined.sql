-- One row per PIM activation request, its lifecycle events folded by RequestId (macros/fold_activation_requests.sql).
{{ fold_activation_requests(ref('int_audit_events_unioned')) }}
