"""The tenant directory on disk (docs/tenant-format.md), read as collections of JSON objects.

Every collection file is read once and indexed, at start-up (`validate`, so that a broken file stops the
emulator at once with its name, line and column) or on first use. How a file is held depends on its layout:

- one record per line, as the demo generator writes it (`[`, then `{...},` lines, then `]`): each line is parsed
  once to check it, then only its byte offsets are kept and the file is memory-mapped. A page is a run of
  byte slices handed to orjson as pre-serialised fragments. This is what keeps an L tenant (2M audit events,
  2.5 GB of JSON, ~13 GB as Python dicts) servable on an 8 GB machine.
- any other layout (a hand-written, pretty-printed file): parsed as a whole and kept as Python objects.

Records are parsed again only when a query needs their values ($filter, $orderby, $select, $expand).

A service that needs a summary of a big collection (Log Analytics: column types, the TimeGenerated of each
row) registers a profiler for a top folder (`register_profiler`); it sees every record of the indexing pass,
so the file is parsed once, and its result is kept as the collection's `profile`. The pages of the mapping
are dropped from the process as the pass goes (they stay in the page cache), so indexing a 3.5 GB file does
not leave 3.5 GB resident.
"""

from __future__ import annotations

import json
import mmap
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

# Folders that hold collections, one JSON array per file. Everything else in the tenant directory
# (tenant.json, ground_truth.json, notes) is not served as a collection.
COLLECTION_ROOTS = ("v1.0", "beta", "loganalytics", "arm")

# Used when neither tenant.json nor v1.0/organization.json names the tenant.
FALLBACK_TENANT_ID = "00000000-0000-4000-8000-000000000000"


# Indexing drops the pages it has read from the mapping every this many bytes.
_DROP_EVERY = 256 << 20


class RecordProfiler(Protocol):
    """Sees every record of a collection once, while the store indexes the file."""

    def add(self, record: dict[str, Any]) -> None: ...


_PROFILERS: dict[str, Callable[[], RecordProfiler]] = {}


def register_profiler(root: str, factory: Callable[[], RecordProfiler]) -> None:
    """Profile every collection under the top folder `root` (e.g. "loganalytics") as it is indexed."""
    _PROFILERS[root] = factory


class TenantFormatError(ValueError):
    """A tenant-directory file that is not what docs/tenant-format.md describes."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None, column: int | None = None):
        self.path = path
        self.problem = problem
        self.line = line
        self.column = column
        where = f"{path}" if line is None else f"{path}, line {line} column {column}"
        super().__init__(f"{where}: {problem}")


class Collection:
    """The records of one collection file. Shared by every request: nothing may mutate what it returns."""

    # What the registered profiler saw of every record, when the file was indexed line by line; else None.
    profile: RecordProfiler | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def item(self, index: int) -> Any:
        """Record `index` in a form orjson serialises as the record (a dict or a raw JSON fragment)."""
        raise NotImplementedError

    def record(self, index: int) -> dict[str, Any]:
        """Record `index` as a dict."""
        raise NotImplementedError

    def records(self) -> Iterator[dict[str, Any]]:
        return (self.record(i) for i in range(len(self)))

    def records_holding(self, texts: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(position, record)`` of every record that may hold each of ``texts`` as a JSON string value; the
        others cannot, and are left out unparsed where the stored form shows it (see LineCollection)."""
        return self.records_holding_any([texts])

    def records_holding_any(self, groups: Sequence[Sequence[str]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """As records_holding, for records that may hold every text of at least one of ``groups``."""
        return enumerate(self.records())

    def close(self) -> None:
        """Release the file behind the collection, if any."""


class ParsedCollection(Collection):
    def __init__(self, items: list[dict[str, Any]]):
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def item(self, index: int) -> Any:
        return self._items[index]

    def record(self, index: int) -> dict[str, Any]:
        return self._items[index]

    def records(self) -> Iterator[dict[str, Any]]:
        return iter(self._items)


class LineCollection(Collection):
    """Records kept on disk: a memory-mapped file and the byte range of each record in it."""

    def __init__(self, mapped: mmap.mmap, starts: array, ends: array, profile: RecordProfiler | None = None):
        self._mapped = mapped
        self._starts = starts
        self._ends = ends
        self.profile = profile
        self._read = 0  # bytes read since the mapping's pages were last dropped (approximate under threads)

    def __len__(self) -> int:
        return len(self._starts)

    def _slice(self, index: int) -> bytes:
        start, end = self._starts[index], self._ends[index]
        self._read += end - start
        if self._read >= _DROP_EVERY:
            # Serving a big file touches all of it; let go of what was read (it stays in the page cache), so
            # the emulator's RSS does not grow to the size of the tenant. The bytes are already copied out.
            self._read = 0
            _drop_pages(self._mapped, 0, len(self._mapped))
        return self._mapped[start:end]

    def item(self, index: int) -> Any:
        return orjson.Fragment(self._slice(index))

    def record(self, index: int) -> dict[str, Any]:
        return orjson.loads(self._slice(index))

    def records_holding_any(self, groups: Sequence[Sequence[str]]) -> Iterator[tuple[int, dict[str, Any]]]:
        # A record whose line has neither a string's plain JSON text nor any backslash (the only way to write a
        # string otherwise, e.g. `\u0050IM`) cannot hold that string, so it is not parsed. A filtered read of an
        # L tenant's audit log parsed all 2.2M records to find the 42k of one service.
        needles = [[orjson.dumps(text) for text in texts] for texts in groups]
        for index in range(len(self)):
            raw = self._slice(index)
            if b"\\" in raw or any(all(needle in raw for needle in group) for group in needles):
                yield index, orjson.loads(raw)

    def close(self) -> None:
        self._mapped.close()


EMPTY = ParsedCollection([])


# Graph's sign-in log: a tenant directory without its own `auditLogs/signIns.json` serves the rows of Log Analytics'
# `SigninLogs` table in Graph's signIn shape, so one set of sign-ins answers both surfaces.
SIGN_INS = ("v1.0/auditLogs/signIns", "beta/auditLogs/signIns")
SIGNIN_LOGS = "loganalytics/SigninLogs"


def graph_sign_in(row: dict[str, Any]) -> dict[str, Any]:
    """A `SigninLogs` row as Graph's signIn resource (the properties both carry)."""
    code = str(row.get("ResultType", "0"))
    return {
        "id": row.get("Id"),
        "createdDateTime": row.get("CreatedDateTime") or row.get("TimeGenerated"),
        "userDisplayName": row.get("UserDisplayName"),
        "userPrincipalName": row.get("UserPrincipalName"),
        "userId": row.get("UserId"),
        "appDisplayName": row.get("AppDisplayName"),
        "ipAddress": row.get("IPAddress"),
        "isInteractive": row.get("IsInteractive"),
        "conditionalAccessStatus": row.get("ConditionalAccessStatus"),
        "authenticationRequirement": row.get("AuthenticationRequirement"),
        "status": {
            "errorCode": int(code) if code.isdigit() else 0,
            "failureReason": row.get("ResultDescription") or None,
        },
        "location": row.get("LocationDetails") or {"countryOrRegion": row.get("Location")},
        "deviceDetail": row.get("DeviceDetail") or {},
    }


class TenantStore:
    """Thread-safe, cached access to the collections of one tenant directory."""

    def __init__(self, root: Path):
        if not root.is_dir():
            raise TenantFormatError(root, "tenant directory does not exist")
        self.root = root
        self._cache: dict[str, Collection] = {}
        self._indexes: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        # One lock per collection so that a slow first parse of a big file does not block other collections.
        self._load_locks: dict[str, threading.Lock] = {}

    # -- files ---------------------------------------------------------------------------------------------

    def path_for(self, parts: list[str]) -> Path:
        """The file behind a collection path; `parts` are already checked to be plain path segments."""
        return self.root.joinpath(*parts[:-1], parts[-1] + ".json")

    def collection_files(self) -> Iterator[tuple[str, Path]]:
        for top in COLLECTION_ROOTS:
            base = self.root / top
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*.json")):
                rel = path.relative_to(self.root).with_suffix("")
                yield rel.as_posix(), path

    def validate(self) -> dict[str, int]:
        """Read and index every collection file now; return the record count of each."""
        counts = {key: len(self.collection(key)) for key, _ in self.collection_files()}
        self.tenant_info()
        return counts

    def close(self) -> None:
        with self._lock:
            for collection in self._cache.values():
                collection.close()
            self._cache.clear()

    # -- collections ---------------------------------------------------------------------------------------

    def collection(self, key: str) -> Collection:
        """The records of a collection (`"v1.0/users"`); a missing file is an empty collection."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._lock:
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:
            cached = self._cache.get(key)
            if cached is None:
                path = self.path_for(key.split("/"))
                if path.is_file():
                    cached = _load(path, _PROFILERS.get(key.split("/", 1)[0]))
                elif key in SIGN_INS:
                    cached = ParsedCollection([graph_sign_in(row) for row in self.collection(SIGNIN_LOGS).records()])
                else:
                    cached = EMPTY
                self._cache[key] = cached
            return cached

    def index_by_id(self, key: str) -> dict[str, dict[str, Any]]:
        """`id` -> record for a collection, for `$expand` joins."""
        index = self._indexes.get(key)
        if index is None:
            index = {rec["id"]: rec for rec in self.collection(key).records() if isinstance(rec.get("id"), str)}
            self._indexes[key] = index
        return index

    def tenant_info(self) -> dict[str, Any]:
        path = self.root / "tenant.json"
        if not path.is_file():
            return {}
        data = _parse(path)
        if not isinstance(data, dict):
            raise TenantFormatError(path, "tenant.json must hold a JSON object", line=1, column=1)
        return data

    def tenant_id(self) -> str:
        tenant_id = self.tenant_info().get("tenantId")
        if isinstance(tenant_id, str) and tenant_id:
            return tenant_id
        for org in self.collection("v1.0/organization").records():
            if isinstance(org.get("id"), str):
                return org["id"]
        return FALLBACK_TENANT_ID


def _load(path: Path, profiler: Callable[[], RecordProfiler] | None = None) -> Collection:
    with path.open("rb") as handle:
        try:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped; the whole-document parse reports it
            return ParsedCollection(_read_array(path))
    profile = profiler() if profiler is not None else None
    try:
        offsets = _index_lines(mapped, path, profile.add if profile is not None else None)
    except TenantFormatError:
        mapped.close()
        raise
    if offsets is None:
        mapped.close()
        return ParsedCollection(_read_array(path))  # no profile: its user reads the (small) parsed records
    return LineCollection(mapped, *offsets, profile=profile)


def _drop_pages(mapped: mmap.mmap, start: int, end: int) -> int:
    """Release the mapped pages of [start, end) from the process (not from the page cache); return where the
    next drop starts. Reading them again just maps them again."""
    start -= start % mmap.PAGESIZE
    if end < len(mapped):
        end -= end % mmap.PAGESIZE  # a partial last page is dropped only at the end of the file
    end = min(end, len(mapped))
    if end > start and hasattr(mapped, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED, start, end - start)
    return max(start, end)


def _index_lines(
    mapped: mmap.mmap, path: Path, visit: Callable[[dict[str, Any]], None] | None = None
) -> tuple[array, array] | None:
    """Byte ranges of the records of a one-record-per-line array, each parsed once to check it.

    None when the file has any other layout (or is broken): the whole-document parse then reads it, and
    reports a broken file with the exact line and column.
    """
    starts, ends = array("q"), array("q")
    position, line_number, size = 0, 0, len(mapped)
    opened = closed = comma_owed = False
    dropped = 0
    while position < size:
        if position - dropped >= _DROP_EVERY:
            dropped = _drop_pages(mapped, dropped, position)
        newline = mapped.find(b"\n", position)
        end = size if newline < 0 else newline
        line = mapped[position:end]
        line_number += 1
        stripped = line.strip()
        if stripped:
            if not opened:
                if stripped not in (b"[", b"[]"):
                    return None
                opened, closed = True, stripped == b"[]"
            elif closed or (stripped == b"]" and comma_owed):
                return None
            elif stripped == b"]":
                closed = True
            else:
                if starts and not comma_owed:
                    return None
                comma_owed = stripped.endswith(b",")
                body = stripped[:-1].rstrip() if comma_owed else stripped
                try:
                    value = orjson.loads(body)
                except orjson.JSONDecodeError:
                    return None
                lead = len(line) - len(line.lstrip())
                if not isinstance(value, dict):
                    raise TenantFormatError(
                        path,
                        f"element {len(starts)} of the array is {_json_type(value)}, not an object",
                        line=line_number,
                        column=lead + 1,
                    )
                if visit is not None:
                    visit(value)
                starts.append(position + lead)
                ends.append(position + lead + len(body))
        position = end + 1
    _drop_pages(mapped, dropped, size)
    return (starts, ends) if closed else None


def _parse(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson reports invalid UTF-8 at line 1 column 1; find the real position of the bad byte.
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            line, column = _line_col(raw[: uexc.start].decode("utf-8"))
            raise TenantFormatError(path, "not valid UTF-8", line=line, column=column) from None
        raise TenantFormatError(path, f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None


def _read_array(path: Path) -> list[Any]:
    data = _parse(path)
    if not isinstance(data, list):
        text = path.read_text("utf-8")
        line, column = _line_col(text[: len(text) - len(text.lstrip())])
        raise TenantFormatError(
            path, f"must hold a JSON array of objects, found {_json_type(data)}", line=line, column=column
        )
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            line, column = _element_position(path.read_text("utf-8"), position)
            raise TenantFormatError(
                path,
                f"element {position} of the array is {_json_type(item)}, not an object",
                line=line,
                column=column,
            )
    return data


def _element_position(text: str, position: int) -> tuple[int, int]:
    """Line and column of the `position`-th array element. Only runs on the error path, so it may be slow."""
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    for _ in range(position + 1):
        while text[index] in " \t\r\n,":
            index += 1
        start = index
        _, index = decoder.raw_decode(text, index)
    return _line_col(text[:start])


def _line_col(before: str) -> tuple[int, int]:
    """1-based line and column of the character that follows `before`."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
