"""The fields of PIM's audit events that the marts read, typed once, in the transaction that lands them.

The raw table keeps every record's JSON whole; its companion ``raw.<table>_typed`` holds one row per stored record
with the fields below already parsed. Typing at landing parses each event once, when its load commits: typing in
dbt parsed the whole log again on every full build, and at 34M events that parse and its copy were a third of
the build (docs/benchmarks.md). The staging model (stg_graph__directory_audits) is a view over the typed table.

The typing SQL is fingerprinted into the typed table's comment. A release that types differently finds a
different fingerprint and types every stored record again, in one transaction, from the raw JSON that is still
there: nothing is lost, and no warehouse keeps fields typed by an older rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from pipelines.lib.warehouse.quarantine import strict_instant_sql


@dataclass(frozen=True)
class TypedEvents:
    raw_table: str
    # The structure json_transform parses each `record` into, `fields`: only these fields are read.
    struct_schema: str
    # The typed columns, as a SELECT list over `fields`.
    columns: str
    # For a record of another shape than `fields`: the expression that builds `fields` from `parsed`, the record
    # parsed by `struct_schema` (None: `fields` is that parse).
    fields_sql: str | None = None

    @property
    def typed_table(self) -> str:
        return f"{self.raw_table}_typed"

    def select_sql(self, where: str) -> str:
        """The typed rows of the raw records matching ``where`` (a condition on the raw table's columns)."""
        if self.fields_sql is None:
            return f"""select tenant_id, load_id, id, {self.columns}
            from (
                select tenant_id, load_id, id, json_transform(record, '{self.struct_schema}') as fields
                from raw.{self.raw_table}
                where {where}
            )"""
        return f"""select tenant_id, load_id, id, {self.columns}
            from (
                select tenant_id, load_id, id, {self.fields_sql} as fields
                from (
                    select tenant_id, load_id, id, json_transform(record, '{self.struct_schema}') as parsed
                    from raw.{self.raw_table}
                    where {where}
                )
            )"""

    @property
    def fingerprint(self) -> str:
        return "pimlens typing " + hashlib.sha256(self.select_sql("").encode()).hexdigest()[:16]


def _detail(key: str) -> str:
    """The value of the additionalDetails entry whose key is ``key`` in any case."""
    return f"list_filter(fields.additionalDetails, lambda detail: lower(detail.key) = '{key.lower()}')[1].value"


# A row PIM itself initiated is known the ways the reference (graph-pim-real-world.md sections 2, 9, 14) documents,
# and no other: PIM's own names in either slot (`Azure AD PIM` in the user slot of expiry rows, the app `MS-PIM` on
# Core Directory's mirror rows, `MS-PIM-Fairfax` in the US Government cloud, `AzureADPIM` as the Activity Log
# caller), or the MS-PIM application's id. The reference quotes only the first group of the system user's id, so
# no id is matched by a prefix; nor is a row system-initiated because an app initiated it (never by the app slot
# alone), nor because its user has no UPN (hand-written and exported rows of people lack one too).
SYSTEM_ACTORS = ("azure ad pim", "ms-pim", "ms-pim-fairfax", "azureadpim")
MS_PIM_APP_ID = "01fc33a7-78ba-4d2f-a4b7-768e336e890e"
_SYSTEM_NAMES = ", ".join(f"'{name}'" for name in SYSTEM_ACTORS)
_IS_SYSTEM_INITIATED = f"""(
            lower(trim(coalesce(fields.initiatedBy.user.displayName, ''))) in ({_SYSTEM_NAMES})
            or lower(trim(coalesce(fields.initiatedBy.app.displayName, ''))) in ({_SYSTEM_NAMES})
            or lower(coalesce(fields.initiatedBy.app.appId, '')) = '{MS_PIM_APP_ID}'
        )"""

# One json_transform parses the record once into a struct: every `->>` would parse it again. Fields of other types
# read as null, and so does a time that does not parse or names no zone (never read in the host's zone): a malformed
# event must never stop its load from landing. Landing quarantines such an event before it is typed (quarantine.py).
# What real tenants send
# (docs/audit-events.md, from Microsoft docs and real-tenant captures; tests/fixtures/real_shapes/ holds one row per
# shape with the parse expected of it):
# - targets and details are lists whose order and membership vary by operation and surface: each is picked by its
#   type or key, both matched case-insensitively; detail values are strings of any case ("True", "true");
# - one activation's rows share no correlationId: its key is `RoleAssignmentRequestId`, else `RequestId` (admin
#   assignments), else the `Request` target's id, compared lower-cased; Access Reviews' parallel rows carry it as
#   their first target's id;
# - `resultReason` is the requester's justification on a success row (a prose diff on a settings change, which is
#   none) and an error code on a failure row;
# - PIM itself (expiry, approval timeout) acts as `Azure AD PIM` in the user slot (no UPN), or as the app `MS-PIM`:
#   such rows have no initiating user;
# - `IsAuthenticatedWithMfa` is absent from most rows: absent reads as unknown (null), never as false;
# - the surface (Entra role, PIM for Groups, Azure resource) comes from the targets, the category only a hint: an ARM
#   path target is Azure, category GroupManagement (or ResourceManagement with a Group target) PIM for Groups.
# StartTime / ExpirationTime are the requested span on a request event, the granted one on a completed event.
_AUDIT_COLUMNS = f"""
        fields.activityDisplayName as activity_display_name,
        {strict_instant_sql("fields.activityDateTime")} as activity_at,
        fields.loggedByService as logged_by_service,
        fields.category as category,
        fields.operationType as operation_type,
        lower(fields.result) as result,
        case when {_IS_SYSTEM_INITIATED} then null else fields.initiatedBy.user.id end as initiated_by_user_id,
        {_IS_SYSTEM_INITIATED} as is_system_initiated,
        case
            when list_bool_or(list_transform(
                fields.targetResources,
                lambda target: starts_with(lower(coalesce(target.id, '')), '/subscriptions/')
                    or starts_with(lower(coalesce(target.id, '')), '/providers/microsoft.management/')
            )) then 'azure_resource'
            when lower(fields.category) = 'groupmanagement' then 'group'
            -- One real tenant logs PIM for Groups under ResourceManagement: there, a Group target is the resource.
            when lower(fields.category) = 'resourcemanagement'
                and list_bool_or(list_transform(fields.targetResources, lambda target: lower(target.type) = 'group'))
                then 'group'
            else 'directory_role'
        end as surface,
        list_filter(fields.targetResources, lambda target: lower(target.type) = 'role')[1].id as role_definition_id,
        -- The resource of a PIM for Groups or Azure resources row: the target whose id is an ARM path, else, on those
        -- surfaces' categories, the last Group target (graph-pim-real-world.md section 8: the resource follows the
        -- person, who may be a group too). A directory role row's Group target is the principal, not a resource.
        coalesce(
            list_filter(
                fields.targetResources,
                lambda target: starts_with(lower(coalesce(target.id, '')), '/subscriptions/')
                    or starts_with(lower(coalesce(target.id, '')), '/providers/microsoft.management/')
            )[1].id,
            case when lower(fields.category) in ('groupmanagement', 'resourcemanagement') then
                list_filter(fields.targetResources, lambda target: lower(target.type) = 'group')[-1].id
            end
        ) as resource_id,
        list_filter(
            fields.targetResources, lambda target: lower(target.type) in ('user', 'group', 'serviceprincipal')
        )[1].id as principal_id,
        lower(trim(coalesce(
            nullif({_detail("roleassignmentrequestid")}, ''),
            nullif({_detail("requestid")}, ''),
            list_filter(fields.targetResources, lambda target: lower(target.type) = 'request')[1].id,
            case when lower(fields.loggedByService) = 'access reviews' then fields.targetResources[1].id end
        ))) as request_id,
        coalesce(
            case
                when lower(fields.result) = 'success'
                    and not starts_with(coalesce(fields.resultReason, ''), 'Setting changes in this session')
                    then nullif(trim(fields.resultReason), '')
            end,
            nullif(trim({_detail("justification")}), '')
        ) as justification,
        case when lower(fields.result) = 'failure' then nullif(trim(fields.resultReason), '') end as failure_reason,
        case lower(trim({_detail("isauthenticatedwithmfa")}))
            when 'true' then true
            when 'false' then false
        end as is_authenticated_with_mfa,
        {_detail("audittype")} as audit_type,
        try_cast({_detail("starttime")} as timestamptz) as schedule_start_at,
        try_cast({_detail("expirationtime")} as timestamptz) as schedule_end_at"""

# The nested parts of Graph's struct, for the Log Analytics copy's dynamic columns. DIRECTORY_AUDITS spells them out
# again in its own schema on purpose: its text is its fingerprint, and the same text keeps every warehouse's typed
# Graph events from being typed again.
_INITIATED_BY = (
    '{"user": {"id": "VARCHAR", "displayName": "VARCHAR", "userPrincipalName": "VARCHAR"}, '
    '"app": {"displayName": "VARCHAR", "appId": "VARCHAR"}}'
)
_TARGET_RESOURCES = '[{"id": "VARCHAR", "type": "VARCHAR", "displayName": "VARCHAR"}]'
_ADDITIONAL_DETAILS = '[{"key": "VARCHAR", "value": "VARCHAR"}]'

DIRECTORY_AUDITS = TypedEvents(
    raw_table="directory_audits",
    struct_schema="""{
        "activityDisplayName": "VARCHAR",
        "activityDateTime": "VARCHAR",
        "category": "VARCHAR",
        "loggedByService": "VARCHAR",
        "operationType": "VARCHAR",
        "result": "VARCHAR",
        "resultReason": "VARCHAR",
        "initiatedBy": {
            "user": {"id": "VARCHAR", "displayName": "VARCHAR", "userPrincipalName": "VARCHAR"},
            "app": {"displayName": "VARCHAR", "appId": "VARCHAR"}
        },
        "targetResources": [{"id": "VARCHAR", "type": "VARCHAR", "displayName": "VARCHAR"}],
        "additionalDetails": [{"key": "VARCHAR", "value": "VARCHAR"}]
    }""",
    columns=_AUDIT_COLUMNS,
)

# The Log Analytics copy of the same events (`AuditLogs`): the same fields under the table's column names
# (graph-pim-real-world.md sections 1 and 10: `OperationName` = `ActivityDisplayName`, `AADOperationType` for
# operationType, ...), and its dynamic columns (InitiatedBy, TargetResources, AdditionalDetails) hold the same
# camelCase inner keys as Graph. Through the query API a dynamic value arrives as JSON text; one that arrives as an
# object reads the same, as its text; text that is not JSON reads as null (the event still lands). Typed into the
# very columns of the Graph copy, so the two union by column.


def _dynamic(column: str, schema: str) -> str:
    """A dynamic column of the parsed Log Analytics row, parsed by ``schema``; null when its text is not JSON.

    `try`, not `case when json_valid(...)`: under the case, the memory of one typing statement grew with its rows,
    and even a small tenant's load (7k rows) overran the 64 MB landing pool and was landed twice."""
    return f"try(json_transform(parsed.{column}, '{schema}'))"


LA_AUDIT_LOGS = TypedEvents(
    raw_table="la_audit_logs",
    struct_schema="""{
        "ActivityDisplayName": "VARCHAR",
        "OperationName": "VARCHAR",
        "ActivityDateTime": "VARCHAR",
        "Category": "VARCHAR",
        "LoggedByService": "VARCHAR",
        "AADOperationType": "VARCHAR",
        "Result": "VARCHAR",
        "ResultReason": "VARCHAR",
        "InitiatedBy": "VARCHAR",
        "TargetResources": "VARCHAR",
        "AdditionalDetails": "VARCHAR"
    }""",
    fields_sql=f"""struct_pack(
        activityDisplayName := coalesce(parsed.ActivityDisplayName, parsed.OperationName),
        activityDateTime := parsed.ActivityDateTime,
        category := parsed.Category,
        loggedByService := parsed.LoggedByService,
        operationType := parsed.AADOperationType,
        result := parsed.Result,
        resultReason := parsed.ResultReason,
        initiatedBy := {_dynamic("InitiatedBy", _INITIATED_BY)},
        targetResources := {_dynamic("TargetResources", _TARGET_RESOURCES)},
        additionalDetails := {_dynamic("AdditionalDetails", _ADDITIONAL_DETAILS)}
    )""",
    columns=_AUDIT_COLUMNS,
)

TYPED_EVENTS = {typed.raw_table: typed for typed in (DIRECTORY_AUDITS, LA_AUDIT_LOGS)}
# The companions are not collections: whatever counts or lists the collections' raw tables leaves these out.
TYPED_TABLES = frozenset(typed.typed_table for typed in TYPED_EVENTS.values())


def ensure_typed_table(con: duckdb.DuckDBPyConnection, raw_table: str) -> None:
    """Creates ``raw_table``'s typed companion, or types every stored record again if the typing rule changed.

    Needs the raw table. Does nothing for a table without typed fields. Runs in its own transaction, so call it
    outside one.
    """
    typed = TYPED_EVENTS.get(raw_table)
    if typed is None:
        return
    stored = con.execute(
        "select comment from duckdb_tables() where schema_name = 'raw' and table_name = ?", [typed.typed_table]
    ).fetchone()
    if stored is not None and stored[0] == typed.fingerprint:
        return
    con.execute("begin transaction")
    try:
        con.execute(f"drop table if exists raw.{typed.typed_table}")
        con.execute(f"create table raw.{typed.typed_table} as {typed.select_sql('true')}")
        con.execute(f"comment on table raw.{typed.typed_table} is '{typed.fingerprint}'")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ensure_typed_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every typed companion whose raw table exists: before a build, for a warehouse that has landed nothing since
    an upgrade."""
    landed = {
        row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    for raw_table in TYPED_EVENTS.keys() & landed:
        ensure_typed_table(con, raw_table)


def type_load(con: duckdb.DuckDBPyConnection, raw_table: str, load_id: str) -> None:
    """Types the records one load added to ``raw_table``; call it in the transaction that inserted them."""
    typed = TYPED_EVENTS.get(raw_table)
    if typed is not None:
        con.execute(f"insert into raw.{typed.typed_table} {typed.select_sql('load_id = ?')}", [load_id])
