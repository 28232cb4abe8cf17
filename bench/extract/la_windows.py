"""Replays a tenant's Log Analytics event times through the extractor's window sizing, without a server.

    python -m bench.extract.la_windows --size L [--table AuditLogs]

Every answer the extractor refuses (announced over MAX_ANSWER_BYTES) was built by the service all the same, so
the rows in refused answers are work thrown away. This walks the same windows `extract_log_table` would ask for,
using its own `next_window_size` and `smaller_window`, over the TimeGenerated and line size of every row of the
tenant file, and counts queries, refusals and rows built for nothing. An answer's size is estimated as
WIRE_BYTES_PER_FILE_BYTE times the rows' file lines: the answer drops each row's keys but escapes its dynamic
columns as JSON text (calibrated on the L tenant: 161 refusals estimated where the emulator saw about 170).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import mmap
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.extract.run import tenant_dir
from pipelines.lib.loganalytics import MAX_ANSWER_BYTES, SMALLEST_WINDOW, WINDOW, next_window_size, smaller_window

WIRE_BYTES_PER_FILE_BYTE = 0.8
HISTORY = timedelta(days=400)  # the benchmark's history_days
_TIME = re.compile(rb'"TimeGenerated":"([^"]+)"')


def rows_by_time(path: Path) -> tuple[list[datetime], list[float]]:
    """Each row's TimeGenerated, ascending, and the running total of their estimated answer bytes."""
    rows = []
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        for line in iter(mapped.readline, b""):
            found = _TIME.search(line)
            if found:
                rows.append((datetime.fromisoformat(found.group(1).decode()), len(line) * WIRE_BYTES_PER_FILE_BYTE))
    rows.sort(key=lambda row: row[0])
    return [time for time, _ in rows], list(itertools.accumulate(size for _, size in rows))


def replay(times: list[datetime], total_bytes: list[float], start: datetime, end: datetime) -> dict[str, int]:
    queries = refused = thrown_away = 0
    cursor, size = start, WINDOW
    while cursor < end:
        window_end = min(cursor + size, end)
        first, last = bisect.bisect_left(times, cursor), bisect.bisect_left(times, window_end)
        answer_bytes = int(total_bytes[last - 1] - (total_bytes[first - 1] if first else 0)) if last > first else 0
        queries += 1
        if answer_bytes > MAX_ANSWER_BYTES and window_end - cursor > SMALLEST_WINDOW:
            refused += 1
            thrown_away += last - first
            size = smaller_window(window_end - cursor, answer_bytes)
            continue
        size = next_window_size(window_end - cursor, answer_bytes)
        cursor = window_end
    return {"queries": queries, "refused": refused, "rows_thrown_away": thrown_away, "rows": len(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="L")
    parser.add_argument("--table", default="AuditLogs")
    args = parser.parse_args(argv)
    times, total_bytes = rows_by_time(tenant_dir(args.size, False) / "loganalytics" / f"{args.table}.json")
    end = datetime.now(UTC)  # as the extractor's first load of a table ends its history now
    print(f"{args.size} {args.table}: {replay(times, total_bytes, end - HISTORY, end)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
