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

import bisect
import itertools
import operator
import re
import threading
import uuid
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from pipelines.emulator.odata import parse_instant
from pipelines.emulator.store import Collection, TenantStore, register_profiler

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


class _Profile:
    """What the emulator needs to know of a table without holding its rows (store.register_profiler).

    Fed every row once, while the store indexes the file: the distinct (keys, value types) shapes of the rows,
    which give the columns (union of keys, first-seen order) and their inferred types exactly as a pass over
    parsed rows would; which time-like string columns hold a value that is not an instant; and each row's
    TimeGenerated as epoch microseconds (MISSING when absent or not an instant).
    """

    def __init__(self) -> None:
        self.shapes: dict[tuple[tuple[str, ...], tuple[type, ...]], None] = {}
        self.not_instants: set[str] = set()
        self.times = array("q")
        self._time_like: dict[tuple[str, ...], tuple[str, ...]] = {}

    def add(self, record: dict[str, Any]) -> None:
        keys = tuple(record)
        shape = (keys, tuple(map(type, record.values())))
        if shape not in self.shapes:
            self.shapes[shape] = None
        time_like = self._time_like.get(keys)
        if time_like is None:
            time_like = self._time_like[keys] = tuple(k for k in keys if _is_time_like(k) and k != TIME_COLUMN)
        for name in time_like:
            if name not in self.not_instants:
                value = record[name]
                if isinstance(value, str) and parse_instant(value) is None:
                    self.not_instants.add(name)
        value = record.get(TIME_COLUMN)
        micros = _micros(value)
        if micros == MISSING and isinstance(value, str):
            self.not_instants.add(TIME_COLUMN)
        self.times.append(micros)

    def columns(self) -> tuple[list[str], list[str]]:
        kinds: dict[str, set[type]] = {}
        for keys, types in self.shapes:
            for key, kind in zip(keys, types, strict=True):
                kinds.setdefault(key, set()).add(kind)
        names = list(kinds)
        return names, [_type_of(name, kinds[name] - {type(None)}, name not in self.not_instants) for name in names]


register_profiler("loganalytics", _Profile)


@dataclass
class _Table:
    """A table served lean: rows stay in the store (memory-mapped lines) and are parsed per query.

    `times` is the TimeGenerated of every row that has one, ascending; `order[k]` is the row of `times[k]`
    (rows with equal times keep file order). `order` is None when the file is already in time order with every
    row timed, the generator's layout: then entry k is row k.
    """

    columns: list[str]
    types: list[str]
    source: Collection
    times: array
    order: array | None

    def __post_init__(self) -> None:
        # Most columns go out as they are parsed; only the dynamic ones are re-encoded, so `row` visits those
        # alone (a call per value was most of the emulator's CPU for an L tenant's audit log).
        self._dynamic = tuple(i for i, kind in enumerate(self.types) if kind == "dynamic")

    def row(self, index: int) -> list[Any]:
        """Row `index`, wire-ready: dynamic values as JSON text."""
        row = list(map(self.source.record(index).get, self.columns))
        for position in self._dynamic:
            value = row[position]
            if value is not None:
                row[position] = orjson.dumps(value).decode("utf-8")
        return row

    def timed_rows(self, lo: int, hi: int) -> Sequence[int]:
        """The rows of entries lo..hi of `times`, in time order."""
        return range(lo, hi) if self.order is None else self.order[lo:hi]


def _build_table(source: Collection) -> _Table:
    profile = source.profile
    if not isinstance(profile, _Profile):  # a hand-written (pretty-printed) file: small, profile it now
        profile = _Profile()
        for record in source.records():
            profile.add(record)
    columns, types = profile.columns()
    times = profile.times
    if TIME_COLUMN not in columns:
        return _Table(columns, types, source, array("q"), None)
    if MISSING not in times and all(itertools.starmap(operator.le, itertools.pairwise(times))):
        return _Table(columns, types, source, times, None)
    order = array("q", sorted((i for i, t in enumerate(times) if t != MISSING), key=times.__getitem__))
    return _Table(columns, types, source, array("q", (times[i] for i in order)), order)


class LogAnalytics:
    def __init__(self, store: TenantStore, *, row_limit: int = ROW_LIMIT):
        self.store = store
        self.row_limit = row_limit
        self._tables: dict[str, _Table] = {}
        self._lock = threading.Lock()

    def query(self, body: Any, now: datetime | None = None) -> tuple[dict[str, Any], str, int]:
        """Run a request body; return the response, the table's collection key and the rows returned.

        Only the rows inside the time window (the timespan and any TimeGenerated bounds in `where`, found by
        bisection on the table's time index) are parsed; the other `where` clauses are applied to those. Rows
        are collected only up to `take` or one past the row limit, unless an `order by` other than
        TimeGenerated asc needs them all.
        """
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise QueryError("SyntaxError", "The request body must be a JSON object with a 'query' string.")
        window = parse_timespan(body.get("timespan"), now or datetime.now(UTC))
        plan = parse_kql(body["query"])
        table = self._table(plan.table)

        # Check every clause first, so an unknown column is a 400 whatever the data.
        tests: list[tuple[int, Callable[[Any], bool]]] = []
        bounds: list[tuple[str, int]] = []  # TimeGenerated comparisons the time index answers
        for column, op, literal in plan.conditions:
            position = _column(table, column, "where")
            if position is None:
                continue
            test = _condition(table.types[position], op, literal)
            if column == TIME_COLUMN and isinstance(literal, datetime) and op in _BISECT:
                bounds.append((op, _micros_of(literal)))
            else:
                tests.append((position, test))
        keys = []
        for column, descending in plan.order:
            position = _column(table, column, "order")
            if position is not None:
                keys.append((position, descending))

        if window is not None and TIME_COLUMN in table.columns:
            bounds += [(">=", _micros_of(window[0])), ("<", _micros_of(window[1]))]
        presorted = not keys
        if bounds:
            lo, hi = 0, len(table.times)
            for op, micros in bounds:
                lo, hi = _BISECT[op](table.times, micros, lo, hi)
            candidates: Iterable[int] = table.timed_rows(lo, hi) if hi > lo else ()
            by_time = keys == [(table.columns.index(TIME_COLUMN), False)]
            if not by_time and table.order is not None:
                # File order, as a scan gives: the result without `order by`, and the tie order of a sort.
                candidates = sorted(candidates)
            presorted = not keys or by_time
        else:
            candidates = range(len(table.source))

        wanted = self.row_limit + 1 if plan.take is None else min(plan.take, self.row_limit + 1)
        rows: list[list[Any]] = []
        if wanted > 0:
            for index in candidates:
                row = table.row(index)
                if all(test(row[position]) for position, test in tests):
                    rows.append(row)
                    if presorted and len(rows) >= wanted:
                        break
        if not presorted:
            for position, descending in reversed(keys):
                rows = _sorted(rows, table.types[position], position, descending)
            rows = rows[:wanted]

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
                table = _build_table(self.store.collection(f"loganalytics/{name}"))
                self._tables[name] = table
        return table


def _column(table: _Table, column: str, stage: str) -> int | None:
    """The column's position; None for a table with no file (nothing to check or filter), 400 if unknown."""
    if not table.columns:
        return None
    if column not in table.columns:
        raise QueryError("SemanticError", f"'{stage}' operator: Failed to resolve column named '{column}'")
    return table.columns.index(column)


# -- time index --------------------------------------------------------------------------------------------

MISSING = -(1 << 63)  # no TimeGenerated, or not an instant
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros_of(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def _micros(value: Any) -> int:
    instant = parse_instant(value)
    return MISSING if instant is None else _micros_of(instant)


# Narrow [lo, hi) of the ascending `times` to the entries that satisfy `time <op> micros`.
_BISECT: dict[str, Callable[[array, int, int, int], tuple[int, int]]] = {
    ">=": lambda t, m, lo, hi: (max(lo, bisect.bisect_left(t, m, lo, hi)), hi),
    ">": lambda t, m, lo, hi: (max(lo, bisect.bisect_right(t, m, lo, hi)), hi),
    "<": lambda t, m, lo, hi: (lo, min(hi, bisect.bisect_left(t, m, lo, hi))),
    "<=": lambda t, m, lo, hi: (lo, min(hi, bisect.bisect_right(t, m, lo, hi))),
    "==": lambda t, m, lo, hi: (bisect.bisect_left(t, m, lo, hi), bisect.bisect_right(t, m, lo, hi)),
}


# -- types -------------------------------------------------------------------------------------------------


def _is_time_like(name: str) -> bool:
    return name == TIME_COLUMN or name.endswith(("DateTime", "Time", "TimeUtc"))


def _type_of(name: str, kinds: set[type], all_instants: bool) -> str:
    """The column type Log Analytics would report for values of these Python types (None excluded)."""
    if not kinds:
        return "string"
    if kinds <= {dict, list}:
        return "dynamic"
    if kinds == {bool}:
        return "bool"
    if kinds == {int}:
        return "long"
    if kinds <= {int, float}:
        return "real"
    if kinds == {str}:
        return "datetime" if _is_time_like(name) and all_instants else "string"
    # Mixed scalar types: Log Analytics would hold such a column as dynamic.
    return "dynamic"


def _sorted(rows: list[list[Any]], kind: str, position: int, descending: bool) -> list[list[Any]]:
    """A stable sort of `rows` by one column; KQL puts nulls first when ascending and last when descending."""
    parse = parse_instant if kind == "datetime" else None
    keyed = [(row, parse(row[position]) if parse else row[position]) for row in rows]
    present = [pair for pair in keyed if pair[1] is not None]
    missing = [row for row, key in keyed if key is None]
    present.sort(key=lambda pair: pair[1], reverse=descending)
    ordered = [row for row, _ in present]
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
      (?P<pipe>\|) | (?P<comma>,) | (?P<open>\() | (?P<close>\)) |
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
            if self._peek() == ("word", "in"):
                self.position += 1
                conditions.append((column, "in", self._literal_list()))
            else:
                comparison = self._take("op")[1]
                conditions.append((column, comparison, self._literal()))
            if self._peek() != ("word", "and"):
                return conditions
            self.position += 1

    def _literal(self) -> Any:
        kind, value = self._take(*_LITERAL_KINDS)
        if kind == "word":
            if value not in ("true", "false"):
                raise _unsupported((kind, value))
            return value == "true"
        return value

    def _literal_list(self) -> tuple[Any, ...]:
        """`("a", "b", ...)`, the right side of `in`."""
        self._take("open")
        values = [self._literal()]
        while self._peek() is not None and self._peek()[0] == "comma":
            self.position += 1
            values.append(self._literal())
        self._take("close")
        return tuple(values)

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
    if op == "in":
        # KQL's `in` is case-sensitive and matches equal values of the same type (`in~` would ignore case).
        tests = [_condition(kind, "==", value) for value in literal]
        return lambda value: any(test(value) for test in tests)
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
