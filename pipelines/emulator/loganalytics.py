"""The Log Analytics query API (`POST /v1/workspaces/{id}/query`) over `loganalytics/<Table>.json`.

Only the KQL an extractor sends is understood:

    <Table>
    | where TimeGenerated >= datetime(2026-05-01) and TimeGenerated < datetime(2026-05-02)
    | where LoggedByService == "PIM" and Category == "RoleManagement"
    | order by TimeGenerated asc
    | take 50000

Anything else is a 400 BadArgumentError, as the real service answers a query it cannot run. Results over the
row limit (500,000 on the real service) are cut and flagged with a top-level `error` (a partial result), which
azure-monitor-query turns into a LogsQueryPartialResult.
"""

from __future__ import annotations

import operator
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from pipelines.emulator.odata import parse_instant
from pipelines.emulator.store import TenantStore

ROW_LIMIT = 500_000
TIME_COLUMN = "TimeGenerated"


class QueryError(Exception):
    """A 400 from the query API: `kind` is the inner error code (SyntaxError, SemanticError)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def error_body(code: str, message: str, inner: tuple[str, str] | None = None) -> dict[str, Any]:
    """The query API's error shape: a top-level message, then the detail in nested `innererror`s."""
    error: dict[str, Any] = {"message": message, "code": code, "correlationId": str(uuid.uuid4())}
    if inner is not None:
        error["innererror"] = {"code": inner[0], "message": inner[1]}
    return {"error": error}


@dataclass
class _Table:
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]  # wire-ready: dynamic values already JSON text
    instants: list[datetime | None]  # TimeGenerated of each row, parsed once for time filters


class LogAnalytics:
    def __init__(self, store: TenantStore, *, row_limit: int = ROW_LIMIT):
        self.store = store
        self.row_limit = row_limit
        self._tables: dict[str, _Table] = {}
        self._lock = threading.Lock()

    def query(self, body: Any, now: datetime | None = None) -> tuple[dict[str, Any], str, int]:
        """Run a request body; return the response, the table's collection key and the rows returned."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise QueryError("SyntaxError", "The request body must be a JSON object with a 'query' string.")
        window = parse_timespan(body.get("timespan"), now or datetime.now(UTC))
        plan = parse_kql(body["query"])
        table = self._table(plan.table)
        indexes = range(len(table.rows))
        if window is not None and TIME_COLUMN in table.columns:
            start, end = window
            indexes = [i for i in indexes if (t := table.instants[i]) is not None and start <= t < end]
        for column, op, literal in plan.conditions:
            position = _column(table, column, "where")
            if position is not None:
                test = _condition(table.types[position], op, literal)
                indexes = [i for i in indexes if test(table.rows[i][position])]
        for column, descending in reversed(plan.order):
            position = _column(table, column, "order")
            if position is not None:
                indexes = _sorted(indexes, table, position, descending)
        if plan.take is not None:
            indexes = list(indexes)[: plan.take]
        rows = [table.rows[i] for i in indexes]
        response: dict[str, Any] = {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [{"name": n, "type": t} for n, t in zip(table.columns, table.types, strict=True)],
                    "rows": rows[: self.row_limit],
                }
            ]
        }
        if len(rows) > self.row_limit:
            response["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [
                    {
                        "code": "EngineError",
                        "message": "Something went wrong processing your query on the server.",
                        "innererror": {
                            "code": "-2133196797",
                            "message": f"Query result set has exceeded the internal record count limit "
                            f"{self.row_limit} records.",
                            "severity": 2,
                            "severityName": "Error",
                        },
                    }
                ],
            }
        return response, f"loganalytics/{plan.table}", min(len(rows), self.row_limit)

    def _table(self, name: str) -> _Table:
        table = self._tables.get(name)
        if table is not None:
            return table
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = _build_table(list(self.store.collection(f"loganalytics/{name}").records()))
                self._tables[name] = table
        return table


def _column(table: _Table, column: str, stage: str) -> int | None:
    """The column's position; None for a table with no file (nothing to check or filter), 400 if unknown."""
    if not table.columns:
        return None
    if column not in table.columns:
        raise QueryError("SemanticError", f"'{stage}' operator: Failed to resolve column named '{column}'")
    return table.columns.index(column)


def _build_table(records: list[dict[str, Any]]) -> _Table:
    columns: dict[str, None] = {}
    for record in records:
        for key in record:
            columns.setdefault(key)
    names = list(columns)
    types = [_infer_type(name, [r.get(name) for r in records]) for name in names]
    rows = [
        [_wire_value(record.get(name), kind) for name, kind in zip(names, types, strict=True)] for record in records
    ]
    instants = [parse_instant(r.get(TIME_COLUMN)) for r in records] if TIME_COLUMN in columns else []
    return _Table(names, types, rows, instants)


def _infer_type(name: str, values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(isinstance(v, dict | list) for v in present):
        return "dynamic"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "long"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "real"
    if all(isinstance(v, str) for v in present):
        time_like = name == TIME_COLUMN or name.endswith(("DateTime", "Time", "TimeUtc"))
        if time_like and all(parse_instant(v) is not None for v in present):
            return "datetime"
        return "string"
    # Mixed scalar types: Log Analytics would hold such a column as dynamic.
    return "dynamic"


def _wire_value(value: Any, kind: str) -> Any:
    # The service sends dynamic values as JSON text inside the row, not as nested JSON.
    if kind == "dynamic" and value is not None:
        return orjson.dumps(value).decode("utf-8")
    return value


def _sorted(indexes: Any, table: _Table, position: int, descending: bool) -> list[int]:
    parse = parse_instant if table.types[position] == "datetime" else None
    keyed = [(i, parse(table.rows[i][position]) if parse else table.rows[i][position]) for i in indexes]
    present = [pair for pair in keyed if pair[1] is not None]
    missing = [i for i, key in keyed if key is None]
    present.sort(key=lambda pair: pair[1], reverse=descending)
    ordered = [i for i, _ in present]
    # KQL puts nulls first when ascending and last when descending.
    return ordered + missing if descending else missing + ordered


# -- timespan ----------------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> timedelta | None:
    match = _DURATION.fullmatch(text.strip())
    if not match or text.strip() in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )


def parse_timespan(value: Any, now: datetime) -> tuple[datetime, datetime] | None:
    """ISO-8601 interval `start/end`, `start/duration`, `duration/end` or a duration ending now."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError("SyntaxError", "'timespan' must be an ISO-8601 interval or duration string.")
    pieces = value.split("/")
    if len(pieces) == 1:
        duration = parse_duration(pieces[0])
        if duration is None:
            raise QueryError("SyntaxError", f"Invalid timespan '{value}'.")
        return now - duration, now
    if len(pieces) != 2:
        raise QueryError("SyntaxError", f"Invalid timespan '{value}'.")
    first, second = (parse_instant(p) for p in pieces)
    if first is not None and second is not None:
        return first, second
    if first is not None and (duration := parse_duration(pieces[1])) is not None:
        return first, first + duration
    if second is not None and (duration := parse_duration(pieces[0])) is not None:
        return second - duration, second
    raise QueryError("SyntaxError", f"Invalid timespan '{value}'.")


# -- KQL ---------------------------------------------------------------------------------------------------

_KQL_TOKEN = re.compile(
    r"""\s*(?:
      (?P<datetime>datetime\(\s*(?P<dt>[^)]*?)\s*\)) |
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') |
      (?P<op>==|!=|>=|<=|>|<) |
      (?P<pipe>\|) | (?P<comma>,) |
      (?P<number>-?\d+(?:\.\d+)?) |
      (?P<word>[A-Za-z_][\w]*)
    )""",
    re.VERBOSE,
)


_LITERAL_KINDS = ("string", "number", "datetime", "word")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class QueryPlan:
    table: str
    conditions: tuple[tuple[str, str, Any], ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    take: int | None = None


def _tokenize(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = query.strip().rstrip(";")
    while position < len(text):
        match = _KQL_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError("SyntaxError", f"Query could not be parsed at '{text[position:][:20]}'.")
        kind = match.lastgroup
        assert kind is not None
        raw = match.group(kind)
        if kind == "datetime":
            instant = parse_instant(match.group("dt")) or _date_only(match.group("dt"))
            if instant is None:
                raise QueryError("SyntaxError", f"Invalid datetime literal '{raw}'.")
            tokens.append(("datetime", instant))
        elif kind == "string":
            tokens.append(("string", _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1])))
        elif kind == "number":
            tokens.append(("number", float(raw) if "." in raw else int(raw)))
        else:
            tokens.append((kind, raw))
        position = match.end()
    return tokens


def _date_only(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_kql(query: str) -> QueryPlan:
    return _KqlParser(_tokenize(query)).plan()


def _unsupported(token: tuple[str, Any] | None) -> QueryError:
    shown = "end of query" if token is None else token[1]
    return QueryError(
        "SemanticError", f"The emulator does not support '{shown}' here: use where / order by / take on one table."
    )


class _KqlParser:
    """query := Table ('|' (where | order by | sort by | take | limit))*"""

    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens = tokens
        self.position = 0

    def _peek(self, offset: int = 0) -> tuple[str, Any] | None:
        at = self.position + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def _take(self, *kinds: str) -> tuple[str, Any]:
        """The next token, which must be of one of `kinds`; with no kinds, always refuses it."""
        token = self._peek()
        if token is None or token[0] not in kinds:
            raise _unsupported(token)
        self.position += 1
        return token

    def plan(self) -> QueryPlan:
        if not self.tokens or self.tokens[0][0] != "word":
            raise QueryError("SyntaxError", "A query must start with a table name.")
        table = self._take("word")[1]
        conditions: list[tuple[str, str, Any]] = []
        order: list[tuple[str, bool]] = []
        take: int | None = None
        while self._peek() is not None:
            self._take("pipe")
            stage = self._peek()
            name = str(stage[1]).lower() if stage else ""
            if name == "where":
                self.position += 1
                conditions.extend(self._conditions())
            elif name in ("order", "sort") and self._peek(1) == ("word", "by"):
                self.position += 2
                order.extend(self._order_keys())
            elif name in ("take", "limit"):
                self.position += 1
                count = self._take("number")[1]
                if not isinstance(count, int):
                    raise QueryError("SyntaxError", f"'{name}' needs a whole number of rows.")
                take = count
            else:
                self._take()  # raises: an operator the emulator does not run
        return QueryPlan(table, tuple(conditions), tuple(order), take)

    def _conditions(self) -> list[tuple[str, str, Any]]:
        conditions = []
        while True:
            column = self._take("word")[1]
            comparison = self._take("op")[1]
            kind, value = self._take(*_LITERAL_KINDS)
            if kind == "word":
                if value not in ("true", "false"):
                    raise _unsupported((kind, value))
                value = value == "true"
            conditions.append((column, comparison, value))
            if self._peek() != ("word", "and"):
                return conditions
            self.position += 1

    def _order_keys(self) -> list[tuple[str, bool]]:
        keys = []
        while True:
            column = self._take("word")[1]
            # KQL sorts descending unless told otherwise.
            descending = True
            if self._peek() in (("word", "asc"), ("word", "desc")):
                descending = self._take("word")[1] == "desc"
            keys.append((column, descending))
            if self._peek() is None or self._peek()[0] != "comma":
                return keys
            self.position += 1


_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def _condition(kind: str, op: str, literal: Any) -> Callable[[Any], bool]:
    compare = _COMPARE[op]
    if isinstance(literal, datetime):
        if kind != "datetime":
            raise QueryError("SemanticError", "Cannot compare a non-datetime column with a datetime literal.")

        def by_instant(value: Any) -> bool:
            instant = parse_instant(value)
            return instant is not None and compare(instant, literal)

        return by_instant

    numeric = isinstance(literal, int | float) and not isinstance(literal, bool)

    def by_value(value: Any) -> bool:
        if value is None:
            return False
        if numeric:
            comparable = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            comparable = type(value) is type(literal)
        if not comparable:
            return op == "!="
        return compare(value, literal)

    return by_value
