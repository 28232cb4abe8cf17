"""Time as integer milliseconds since the Unix epoch, UTC.

The generator never holds a float or a sub-millisecond part, so every timestamp it writes is a whole
millisecond by construction and the ground truth's latencies are exact integers.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

Instant = int  # milliseconds since 1970-01-01T00:00:00Z

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)


def from_datetime(moment: datetime) -> Instant:
    """A timezone-aware datetime as an Instant (sub-millisecond parts are dropped)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"as_of must be timezone-aware (UTC), got the naive datetime {moment.isoformat()}")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@functools.cache
def _day_prefix(day: int) -> str:
    # Cached because millions of audit timestamps share a few hundred days.
    return (_EPOCH_DATE + timedelta(days=day)).isoformat() + "T"


def iso(at: Instant) -> str:
    """Graph's timestamp format with exactly three fraction digits: ``2026-05-02T08:11:01.112Z``."""
    day, rest = divmod(at, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds, millis = divmod(rest, SECOND)
    return f"{_day_prefix(day)}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def iso_or_none(at: Instant | None) -> str | None:
    return None if at is None else iso(at)


def iso_duration(span: Instant) -> str:
    """An ISO-8601 duration the way PIM writes them: assignment lengths in days (``P365D``), activation
    lengths in hours up to a day (``PT8H``, ``PT24H``, ``PT30M``)."""
    if span > DAY and span % DAY == 0:
        return f"P{span // DAY}D"
    hours, rest = divmod(span, HOUR)
    minutes = rest // MINUTE
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
