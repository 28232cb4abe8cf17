"""Shows a run's progress (the reports of ``progress.py``, read from its file) while the run's process works.

On a terminal: a live table (rich) of what is under way, with each throttle wait counted down, and a line per
finished piece of work. Anywhere else (a log file, CI): a plain line per finished piece of work, and every
``interval`` seconds one line per piece still under way, so a log shows the run moving without a line per page.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import orjson
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pipelines.lib.progress import UNDER_WAY, describe

POLL_SECONDS = 0.25


class ProgressBoard:
    """The latest report of each piece of work, in the order they started."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self._offset = 0
        self._partial = b""

    def read(self, path: Path) -> list[dict[str, Any]]:
        """The reports appended to ``path`` since the last read (whole lines only), also kept as the latest."""
        try:
            with path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        events = []
        for line in lines:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            self.latest[(event["kind"], event.get("tenant"), event["name"])] = event
            events.append(event)
        return events

    def under_way(self) -> list[dict[str, Any]]:
        return [event for event in self.latest.values() if event["state"] in UNDER_WAY]

    def counts(self) -> str:
        collections = [event for event in self.latest.values() if event["kind"] == "collection"]
        finished = [event for event in collections if event["state"] not in UNDER_WAY]
        not_covered = sum(event["state"] not in ("done", *UNDER_WAY) for event in collections)
        rows = sum(event.get("rows", 0) for event in collections)
        gaps = f", {not_covered} not covered" if not_covered else ""
        return f"{len(finished)} collections read{gaps}, {rows:,} rows"


def render(board: ProgressBoard) -> Group:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    now = time.time()
    for event in board.under_way():
        who = f"{event['tenant']} " if event.get("tenant") else ""
        line = describe(event, now=now, named=False)
        table.add_row(f"{who}{event['name']}", Text(line, style="yellow" if event["state"] == "waiting" else ""))
    return Group(Text(board.counts(), style="dim"), table)


@contextmanager
def showing_progress(
    path: Path, out: TextIO | None = None, *, live: bool | None = None, interval: float = 10.0
) -> Iterator[ProgressBoard]:
    """Shows the reports appended to ``path`` until the block ends, then the last of them."""
    out = out or sys.stdout
    live = out.isatty() if live is None else live
    board = ProgressBoard()
    stop = threading.Event()
    # Plain lines are written as they are, never wrapped: a log line stays one line whatever its length.
    console = Console(file=out, highlight=False) if live else None

    def show(event: dict[str, Any]) -> None:
        if console is not None:
            console.print(describe(event), markup=False, soft_wrap=True)
        else:
            print(describe(event), file=out, flush=True)

    def show_finished(events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["state"] not in UNDER_WAY:
                show(event)

    def follow_live() -> None:
        with Live(render(board), console=console, refresh_per_second=4, transient=True) as display:
            while not stop.wait(POLL_SECONDS):
                show_finished(board.read(path))
                display.update(render(board))
            show_finished(board.read(path))

    def follow_plain() -> None:
        last_status = time.monotonic()
        while not stop.wait(POLL_SECONDS):
            show_finished(board.read(path))
            if time.monotonic() - last_status >= interval:
                last_status = time.monotonic()
                for event in board.under_way():
                    show(event)
        show_finished(board.read(path))

    thread = threading.Thread(target=follow_live if live else follow_plain, name="pimlens-progress", daemon=True)
    thread.start()
    try:
        yield board
    finally:
        stop.set()
        thread.join()
