"""URL paths as lists of segments, and the segment patterns the rule tables use."""

from __future__ import annotations

from fnmatch import fnmatchcase
from urllib.parse import unquote


class UnsafePathError(ValueError):
    """A path segment that could step outside the tenant directory."""


def is_safe_segment(segment: str) -> bool:
    """A name that stays one level inside its folder: not empty, `.`, `..`, and without separators."""
    return segment not in ("", ".", "..") and not any(c in segment for c in "/\\\x00")


def split_segments(path: str) -> list[str]:
    """`/a/b%20c/` -> `["a", "b c"]`; segments are split before decoding so `%2F` cannot add a level."""
    segments = [unquote(raw) for raw in path.strip("/").split("/")] if path.strip("/") else []
    for segment in segments:
        if not is_safe_segment(segment):
            raise UnsafePathError(f"invalid path segment '{segment}'")
    return segments


def matches(path: list[str], pattern: tuple[str, ...], *, exact: bool = False) -> bool:
    """Segment-wise fnmatch; unless `exact`, a shorter pattern matches any path it is a prefix of."""
    if len(path) < len(pattern) or (exact and len(path) != len(pattern)):
        return False
    return all(fnmatchcase(segment, p) for segment, p in zip(path, pattern, strict=False))
