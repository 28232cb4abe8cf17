"""The files an extractor hands to landing: the records as NDJSON and, for event streams, a small keys file.

Landing an event stream needs, besides inserting the records, the span of event times the file holds and the ids
it repeats. Asking DuckDB for those from the records file meant parsing every multi-kilobyte JSON record two more
times. The extractor already holds each record once, so it writes beside the records one short line per record,
``{"line", "id", "event_at"}``: landing reads the span and the repeated ids from that, and the records file once.

``event_at`` is the time property's text exactly as ``record->>'<property>'`` gives it (a non-string value as its
JSON text, a missing or null one as null), so DuckDB casts the same text it would have read from the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import orjson


def keys_path(records_path: Path) -> Path:
    """Where the keys file of ``records_path`` lives: beside it, so a scratch directory holds and removes both."""
    return records_path.with_name(records_path.name + ".keys")


def event_text(value: Any) -> str | None:
    """The time property's value as text, as DuckDB's ``->>`` would extract it from the record."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _event_at(record: dict[str, Any], time_property: str | None) -> str | None:
    return event_text(record.get(time_property)) if time_property is not None else None


class RecordWriter:
    """Appends NDJSON record lines, numbered from 1, and (when ``keys`` is given) their keys lines."""

    def __init__(self, records: IO[bytes], keys: IO[bytes] | None = None, time_property: str | None = None) -> None:
        if (keys is None) != (time_property is None):
            raise ValueError("a keys file needs the time property it records, and a time property needs a keys file")
        self._records = records
        self._keys = keys
        self._time_property = time_property
        self.lines = 0
        # Where the current read began (file positions and line count): a collection read with several filters
        # writes them one after the other, and a restart of one must keep what the reads before it wrote.
        self._read_start: tuple[int, int, int] = (0, 0, 0)

    def begin_read(self) -> None:
        """Marks the start of another read into the same files: ``reset`` goes back to here, not to the start."""
        keys_at = self._keys.tell() if self._keys is not None else 0
        self._read_start = (self._records.tell(), keys_at, self.lines)

    def write(self, record_id: str, line: bytes, record: dict[str, Any]) -> None:
        self.write_line(record_id, line, _event_at(record, self._time_property))

    def write_line(self, record_id: str, line: bytes, event_at: str | None) -> None:
        self.lines += 1
        self._records.write(line)
        self._records.write(b"\n")
        if self._keys is not None:
            self._keys.write(orjson.dumps({"line": self.lines, "id": record_id, "event_at": event_at}))
            self._keys.write(b"\n")

    def reset(self) -> None:
        """Forgets everything the current read wrote, for a read that starts again from its first page."""
        records_at, keys_at, self.lines = self._read_start
        for sink, at in ((self._records, records_at), (self._keys, keys_at)):
            if sink is not None:
                sink.seek(at)
                sink.truncate()


class RecordFiles:
    """Opens the records file (and the keys file when ``time_property`` is set) for writing, as a context."""

    def __init__(self, records_path: Path, time_property: str | None = None) -> None:
        self._records_path = records_path
        self._time_property = time_property
        self._open: list[IO[bytes]] = []

    def __enter__(self) -> RecordWriter:
        records = self._records_path.open("w+b")
        self._open.append(records)
        keys = None
        if self._time_property is not None:
            keys = keys_path(self._records_path).open("w+b")
            self._open.append(keys)
        return RecordWriter(records, keys, self._time_property)

    def __exit__(self, *_: object) -> None:
        for sink in self._open:
            sink.close()


class BufferedRecords:
    """One parent's records of a fan-out, held until the parent is read whole, then numbered in the shared file.

    Holds the record lines and each one's event text (not the parsed records), like the bytes buffer it replaces.
    """

    def __init__(self, time_property: str | None = None) -> None:
        self._time_property = time_property
        self._held: list[tuple[str, bytes, str | None]] = []

    def write(self, record_id: str, line: bytes, record: dict[str, Any]) -> None:
        self._held.append((record_id, line, _event_at(record, self._time_property)))

    def reset(self) -> None:
        self._held.clear()

    def write_to(self, writer: RecordWriter) -> None:
        for record_id, line, event_at in self._held:
            writer.write_line(record_id, line, event_at)
        self._held.clear()
