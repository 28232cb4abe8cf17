"""OData query options as Microsoft Graph reads them, for the subset an extractor needs.

Supported: `$top`, `$skiptoken`, `$skip` (only where a collection allows it), `$filter` (comparisons joined by
`and` and `or`, `and` binding tighter), `$select`, `$expand` (the joins the tenant format defines), `$orderby`.
Everything else that starts with `$` is refused with a 400, so a client never silently gets a different result
than Graph would give.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

SUPPORTED = ("top", "skiptoken", "skip", "filter", "select", "expand", "orderby")


class ODataError(Exception):
    """A query Graph would answer with 400; `code` and `message` go into Graph's error body."""

    def __init__(self, message: str, code: str = "BadRequest"):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Expand:
    """One `$expand` item: `policy($expand=rules)` is `Expand("policy", (Expand("rules"),))`."""

    name: str
    nested: tuple[Expand, ...] = ()


Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class QueryOptions:
    top: int | None = None
    skip: int | None = None
    skiptoken: str | None = None
    filter_text: str | None = None
    predicate: Predicate | None = None
    # The `property eq 'text'` terms of the filter that must all hold (none under an `or`), for collections that
    # require some.
    equalities: tuple[tuple[str, Any], ...] = ()
    # The texts a matching record must hold as string values: all of at least one of these groups (one group per
    # branch of an `or`); a record holding none of the groups cannot match and is not parsed.
    needles: tuple[tuple[str, ...], ...] = ((),)
    select: tuple[str, ...] | None = None
    expand: tuple[Expand, ...] = ()
    orderby: tuple[tuple[str, bool], ...] = ()  # (property path, descending)
    # Every option the client sent except $skiptoken, as (name, value), to rebuild @odata.nextLink.
    carried: tuple[tuple[str, str], ...] = ()

    def fingerprint(self, collection: str) -> str:
        """Ties a page token to the query it was issued for."""
        canonical = orjson.dumps([collection, sorted(self.carried)])
        return hashlib.sha256(canonical).hexdigest()[:16]

    @property
    def result_key(self) -> tuple[str | None, tuple[tuple[str, bool], ...]]:
        """What decides which records are returned and in what order (select/expand only shape them)."""
        return self.filter_text, self.orderby


def parse_query(query: str, *, dollar_optional: bool) -> QueryOptions:
    """Parse a raw query string. `dollar_optional`: v1.0 also accepts `top=5`; beta ignores such names."""
    seen: dict[str, str] = {}
    carried: list[tuple[str, str]] = []
    for raw_name, value in parse_qsl(query, keep_blank_values=True):
        # parse_qsl decodes %24top to $top, so both spellings arrive here the same.
        has_dollar = raw_name.startswith("$")
        name = raw_name[1:].lower() if has_dollar else raw_name.lower()
        if not has_dollar and not (dollar_optional and name in SUPPORTED):
            carried.append((raw_name, value))
            continue
        if name not in SUPPORTED:
            raise ODataError(f"Query option '${name}' is not supported.", "Request_UnsupportedQuery")
        if name in seen:
            raise ODataError(
                f"Query option '${name}' was specified more than once, but it must be specified at most once."
            )
        seen[name] = value
        if name != "skiptoken":
            carried.append((f"${name}", value))

    top = _parse_int(seen, "top")
    skip = _parse_int(seen, "skip")
    filter_text = seen.get("filter")
    parsed = None if filter_text is None else parse_filter_fully(filter_text)
    return QueryOptions(
        top=top,
        skip=skip,
        skiptoken=seen.get("skiptoken"),
        filter_text=filter_text,
        predicate=None if parsed is None else parsed.predicate,
        equalities=() if parsed is None else parsed.equalities,
        needles=((),) if parsed is None else parsed.needles,
        select=_parse_select(seen["select"]) if "select" in seen else None,
        expand=parse_expand(seen["expand"]) if "expand" in seen else (),
        orderby=_parse_orderby(seen["orderby"]) if "orderby" in seen else (),
        carried=tuple(carried),
    )


def _parse_int(seen: dict[str, str], name: str) -> int | None:
    if name not in seen:
        return None
    text = seen[name].strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ODataError(f"Invalid value '{text}' for query option '${name}': an integer is expected.")
    return int(text)


# -- $select / $orderby / $expand --------------------------------------------------------------------------

_PROPERTY = re.compile(r"[A-Za-z_@][\w@.]*")
_PATH = re.compile(r"[A-Za-z_@][\w@.]*(?:/[A-Za-z_@][\w@.]*)*")


def _parse_select(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if not _PROPERTY.fullmatch(name):
            raise ODataError(f"Parsing OData Select and Expand failed: invalid property '{name}' in $select.")
    return names


def _parse_orderby(text: str) -> tuple[tuple[str, bool], ...]:
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or not _PATH.fullmatch(words[0]):
            raise ODataError(f"Invalid $orderby clause: '{part.strip()}'.")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError(f"Invalid $orderby direction '{words[1]}': use asc or desc.")
        keys.append((words[0], direction == "desc"))
    return tuple(keys)


def parse_expand(text: str) -> tuple[Expand, ...]:
    """`policy($expand=rules),x` -> items; nested options other than `$expand` are refused."""
    items, rest = _expand_list(text.strip())
    if rest:
        raise ODataError(f"Parsing OData Select and Expand failed: unexpected '{rest}' in $expand.")
    return items


def _expand_list(text: str) -> tuple[tuple[Expand, ...], str]:
    items = []
    while True:
        match = _PROPERTY.match(text)
        if not match:
            raise ODataError(f"Parsing OData Select and Expand failed: cannot read '{text}' in $expand.")
        name, text = match.group(), text[match.end() :].lstrip()
        nested: tuple[Expand, ...] = ()
        if text.startswith("("):
            inner = text[1:].lstrip()
            if not inner.lower().startswith("$expand="):
                raise ODataError("Parsing OData Select and Expand failed: only $expand may be nested in $expand.")
            nested, text = _expand_list(inner[len("$expand=") :].lstrip())
            if not text.startswith(")"):
                raise ODataError("Parsing OData Select and Expand failed: missing ')' in $expand.")
            text = text[1:].lstrip()
        items.append(Expand(name, nested))
        if not text.startswith(","):
            return tuple(items), text
        text = text[1:].lstrip()


# -- $filter -----------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,) |
      (?P<string>'(?:[^']|'')*') |
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})) |
      (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?) |
      (?P<word>[A-Za-z_@][\w@.]*(?:/[A-Za-z_@][\w@.]*)*)
    )""",
    re.VERBOSE,
)
_LITERAL_WORDS = {"true": True, "false": False, "null": None}
_ISO_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class _DateTime:
    """Marks a datetime literal, so that the property is compared as an instant, not as text."""

    def __init__(self, value: datetime):
        self.value = value


@dataclass(frozen=True)
class ParsedFilter:
    predicate: Predicate
    equalities: tuple[tuple[str, Any], ...]  # must all hold
    needles: tuple[tuple[str, ...], ...]  # texts of which a matching record holds all of at least one group


def parse_filter(text: str) -> tuple[Predicate, tuple[tuple[str, Any], ...]]:
    parsed = parse_filter_fully(text)
    return parsed.predicate, parsed.equalities


def parse_filter_fully(text: str) -> ParsedFilter:
    tokens = _tokenize(text)
    parser = _FilterParser(tokens, text)
    parsed = parser.expression()
    if parser.position != len(tokens):
        raise _invalid(text, f"unexpected '{tokens[parser.position][1]}'")
    return parsed


def _invalid(text: str, why: str) -> ODataError:
    return ODataError(f"Invalid filter clause: {why} in '{text}'.")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise _invalid(text, f"syntax error at position {position}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _FilterParser:
    """expression := conjunction ('or' conjunction)* ; conjunction := term ('and' term)* ;
    term := '(' expression ')' | path operator literal."""

    def __init__(self, tokens: list[tuple[str, str]], text: str):
        self.tokens = tokens
        self.text = text
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _invalid(self.text, "unexpected end of expression")
        self.position += 1
        return token

    def expression(self) -> ParsedFilter:
        """Conjunctions joined by `or`: only what every branch requires must hold."""
        branches = [self.conjunction()]
        while (token := self._peek()) is not None and token[0] == "word" and token[1].lower() == "or":
            self.position += 1
            branches.append(self.conjunction())
        if len(branches) == 1:
            return branches[0]
        predicates = [branch.predicate for branch in branches]
        return ParsedFilter(
            lambda record: any(predicate(record) for predicate in predicates),
            (),
            tuple(group for branch in branches for group in branch.needles),
        )

    def conjunction(self) -> ParsedFilter:
        # Every `property eq 'text'` of a conjunction must hold.
        terms: list[ParsedFilter] = []
        while True:
            terms.append(self.term())
            token = self._peek()
            if token is None or token[0] == "rparen" or (token[0] == "word" and token[1].lower() == "or"):
                break
            if token[0] == "word" and token[1].lower() == "and":
                self.position += 1
                continue
            raise _invalid(self.text, f"'{token[1]}' is not supported (only comparisons joined by 'and' or 'or' are)")
        if len(terms) == 1:
            return terms[0]
        needles: list[tuple[str, ...]] = [()]
        for term in terms:
            needles = [group + more for group in needles for more in term.needles]
        predicates = [term.predicate for term in terms]
        return ParsedFilter(
            lambda record: all(predicate(record) for predicate in predicates),
            tuple(equality for term in terms for equality in term.equalities),
            tuple(needles),
        )

    def term(self) -> ParsedFilter:
        kind, value = self._take()
        if kind == "lparen":
            inner = self.expression()
            if self._take()[0] != "rparen":
                raise _invalid(self.text, "missing ')'")
            return inner
        if kind != "word" or value.lower() in _COMPARE or value.lower() in ("and", "or", "not"):
            raise _invalid(self.text, f"'{value}' is not supported where a property is expected")
        path = value.split("/")
        following = self._peek()
        if following is not None and following[0] == "lparen":
            raise _invalid(self.text, f"function '{value}' is not supported")
        op_kind, op = self._take()
        op = op.lower()
        if op_kind != "word" or op not in _COMPARE:
            raise _invalid(self.text, f"'{op}' is not a supported comparison (eq ne gt ge lt le)")
        literal = self._literal()
        if literal is None and op not in ("eq", "ne"):
            raise _invalid(self.text, f"null cannot be compared with '{op}'")
        equalities = ((value, literal),) if op == "eq" and isinstance(literal, str) else ()
        return ParsedFilter(_comparison(path, op, literal), equalities, (tuple(text for _, text in equalities),))

    def _literal(self) -> Any:
        kind, value = self._take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "datetime":
            return _DateTime(_to_instant(datetime.fromisoformat(value)))
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "word" and value.lower() in _LITERAL_WORDS:
            return _LITERAL_WORDS[value.lower()]
        raise _invalid(self.text, f"'{value}' is not a supported literal")


_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _comparison(path: list[str], op: str, literal: Any) -> Predicate:
    compare = _COMPARE[op]
    if isinstance(literal, _DateTime):
        instant = literal.value

        def by_instant(record: dict[str, Any]) -> bool:
            value = parse_instant(resolve(record, path))
            if value is None:
                return op == "ne"
            return compare(value, instant)

        return by_instant

    if literal is None or isinstance(literal, bool):
        return lambda record: compare(resolve(record, path), literal)

    wanted: type | tuple[type, ...] = str if isinstance(literal, str) else (int, float)

    def by_value(record: dict[str, Any]) -> bool:
        value = resolve(record, path)
        # A value of another type (or a bool posing as a number) never equals the literal.
        if not isinstance(value, wanted) or isinstance(value, bool):
            return op == "ne"
        return compare(value, literal)

    return by_value


def resolve(record: Any, path: list[str]) -> Any:
    """`initiatedBy/user/id` -> the nested value, or None when any step is missing."""
    for step in path:
        if not isinstance(record, dict):
            return None
        record = record.get(step)
    return record


def parse_instant(value: Any) -> datetime | None:
    """An ISO-8601 timestamp string as an aware instant (naive = UTC), else None."""
    if not isinstance(value, str) or not _ISO_PREFIX.match(value):
        return None
    try:
        return _to_instant(datetime.fromisoformat(value))
    except ValueError:
        return None


def _to_instant(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def sort_key(value: Any) -> tuple[int, Any]:
    """Orders mixed values the way OData does for one type (null first), and keeps mixed types sortable."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        instant = parse_instant(value)
        return (3, instant) if instant is not None else (4, value)
    return (5, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
