{#- The typed fields of a PIM audit event, in the order both copies (Graph's directoryAudits, Log Analytics'
    AuditLogs) are typed into at landing (pipelines/lib/warehouse/typed_events.py): one list for the two staging
    models and their union, so the copies always union column by column. -#}
{% macro typed_audit_columns() -%}
    activity_display_name,
        activity_at,
        logged_by_service,
        category,
        operation_type,
        surface,
        result,
        failure_reason,
        initiated_by_user_id,
        is_system_initiated,
        role_definition_id,
        resource_id,
        principal_id,
        request_id,
        justification,
        is_authenticated_with_mfa,
        audit_type,
        schedule_start_at,
        schedule_end_at
{%- endmacro %}
