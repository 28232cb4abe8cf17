"""Charts as inline SVG, drawn from values the marts computed: nothing to download, nothing to run in the page.

Every data point is one element of class ``point`` with ``data-series`` naming its series and a ``<title>`` the
browser shows on hover, so a reader (and the browser test) can count and read each point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 44
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 8
STATUS_COLORS = {
    "fail": "#c0392b",
    "pass": "#27ae60",
    "not_required": "#d5d8dc",
    "on_time": "#27ae60",
    "late": "#e67e22",
    "incomplete": "#c0392b",
    "in_progress": "#85c1e9",
}
SEVERITY_COLORS = {"critical": "#7b241c", "high": "#c0392b", "medium": "#e67e22", "low": "#f4d03f"}

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    key: str  # data-series of its points
    label: str
    color: str
    values: Sequence[float | None]
    dashed: bool = False


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{value:.0%}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _clip(label: str, limit: int = 52) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(chart: str, body: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(chart)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _y_axis(top: float, fmt: Format, ticks: int = 4) -> list[str]:
    parts = []
    for index in range(ticks + 1):
        value = top * index / ticks
        y = TOP + PLOT_H - PLOT_H * index / ticks
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>')
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
        for index, (label, x) in enumerate(zip(labels, xs, strict=True))
        if index % every == 0
    ]


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts, x = [], LEFT
    for item in series:
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        parts.append(f'<line x1="{x}" x2="{x + 18}" y1="{y}" y2="{y}" stroke="{item.color}" stroke-width="3"{dash}/>')
        parts.append(f'<text x="{x + 24}" y="{y + 4}">{escape(item.label)}</text>')
        x += 36 + 7 * len(item.label)
    return parts


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - PLOT_H * value / top


def line_chart(chart: str, x_labels: Sequence[str], series: Sequence[Series], fmt: Format = count) -> str:
    """One line per series over the x labels (days, months); a point per value that is not None."""
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    pad = 24  # room for the first and last x labels
    step = (PLOT_W - 2 * pad) / max(len(x_labels) - 1, 1)
    xs = [LEFT + (pad + step * index if len(x_labels) > 1 else PLOT_W / 2) for index in range(len(x_labels))]
    body = [*_y_axis(top, fmt), *_x_labels(x_labels, xs)]
    for item in series:
        values = zip(xs, item.values, x_labels, strict=True)
        points = [(x, _y(v, top), label, v) for x, v, label in values if v is not None]
        dash = ' stroke-dasharray="6 4"' if item.dashed else ""
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, *_) in enumerate(points))
        body.append(f'<path d="{path}" fill="none" stroke="{item.color}" stroke-width="2"{dash}/>')
        radius = 2.5 if len(points) > 60 else 4
        body += [
            f'<circle class="point" data-series="{item.key}" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" '
            f'fill="{item.color}"><title>{escape(f"{item.label}, {label}: {fmt(v)}")}</title></circle>'
            for x, y, label, v in points
        ]
    body += _legend(series, HEIGHT - 8)
    return _svg(chart, body)


def bar_chart(chart: str, x_labels: Sequence[str], series: Sequence[Series], fmt: Format = count) -> str:
    """Grouped vertical bars: one group per x label, one bar per series (a value of 0 is a bar of no height)."""
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    group = PLOT_W / max(len(x_labels), 1)
    bar = min(48.0, group * 0.8 / len(series))
    xs = [LEFT + group * (index + 0.5) for index in range(len(x_labels))]
    body = [*_y_axis(top, fmt), *_x_labels(x_labels, xs)]
    for offset, item in enumerate(series):
        for x, label, value in zip(xs, x_labels, item.values, strict=True):
            if value is None:
                continue
            left = x - bar * len(series) / 2 + bar * offset
            y = _y(value, top)
            body.append(
                f'<rect class="point" data-series="{item.key}" x="{left:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{TOP + PLOT_H - y:.1f}" fill="{item.color}">'
                f"<title>{escape(f'{item.label}, {label}: {fmt(value)}')}</title></rect>"
            )
    body += _legend(series, HEIGHT - 8)
    return _svg(chart, body)


def hbar_chart(chart: str, rows: Sequence[tuple[str, float, str]], fmt: Format = count) -> str:
    """Horizontal bars, one per (label, value, color) row, labelled with their values."""
    row_h, label_w = 26, 200
    height = TOP + row_h * max(len(rows), 1) + 8
    top = _nice_max(max((value for _, value, _ in rows), default=0))
    width = WIDTH - label_w - RIGHT - 60
    body = []
    for index, (label, value, color) in enumerate(rows):
        y = TOP + row_h * index
        length = max(width * value / top, 2.0)
        body.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        body.append(
            f'<rect class="point" data-series="{escape(label)}" x="{label_w}" y="{y + 4}" width="{length:.1f}" '
            f'height="{row_h - 8}" fill="{color}"><title>{escape(f"{label}: {fmt(value)}")}</title></rect>'
        )
        body.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 17}">{escape(fmt(value))}</text>')
    return _svg(chart, body, height)


Cell = tuple[int, int, str, str]
Mark = tuple[int, float, str, str]


def grid_chart(chart: str, rows: Sequence[str], columns: Sequence[str], cells: Sequence[Cell]) -> str:
    """A matrix: ``cells`` are (row index, column index, status, hover text), coloured by STATUS_COLORS."""
    label_w, head_h, cell_h, head_room = 330, 150, 16, 110
    cell_w = (WIDTH - label_w - head_room) / max(len(columns), 1)
    height = head_h + cell_h * len(rows) + 8
    body = [
        f'<text transform="translate({label_w + cell_w * (i + 0.5):.1f},{head_h - 6}) rotate(-40)">{escape(c)}</text>'
        for i, c in enumerate(columns)
    ]
    body += _row_labels(rows, label_w - 6, head_h + cell_h * 0.75, cell_h)
    body += [
        _status_mark(status, text, label_w + cell_w * col + 1, head_h + cell_h * row + 1, cell_w - 2, cell_h - 2)
        for row, col, status, text in cells
    ]
    return _svg(chart, body, height)


def _row_labels(rows: Sequence[str], x: float, first_y: float, step: float) -> list[str]:
    return [
        f'<text x="{x}" y="{first_y + step * i:.1f}" text-anchor="end">{escape(_clip(row))}</text>'
        for i, row in enumerate(rows)
    ]


def _status_mark(status: str, text: str, x: float, y: float, width: float, height: float) -> str:
    """A point coloured by STATUS_COLORS, its hover text `text`."""
    return (
        f'<rect class="point" data-series="{escape(status)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" rx="1" fill="{STATUS_COLORS.get(status, "#999")}"><title>{escape(text)}</title></rect>'
    )


def timeline(chart: str, rows: Sequence[str], x_labels: Sequence[str], marks: Sequence[Mark]) -> str:
    """One lane per row; ``marks`` are (row index, position 0..1 along the x axis, status, hover text); the x labels
    are spread evenly from the first position to the last."""
    label_w, lane_h, pad = 300, 22, 40
    height = TOP + lane_h * max(len(rows), 1) + 30
    width = WIDTH - label_w - RIGHT - 2 * pad
    body = _row_labels(rows, label_w - 8, TOP + lane_h * 0.65, lane_h)
    ticks = max(len(x_labels) - 1, 1)
    body += [
        f'<text x="{label_w + pad + width * i / ticks:.1f}" y="{height - 8}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, label in enumerate(x_labels)
    ]
    body += [
        _status_mark(status, text, label_w + pad + width * position - 5, TOP + lane_h * row + 4, 10, lane_h - 8)
        for row, position, status, text in marks
    ]
    return _svg(chart, body, height)


def swatches(colors: dict[str, str]) -> str:
    """A colour key for a chart, as HTML."""
    return "".join(
        f'<span class="swatch"><i style="background:{color}"></i>{escape(name.replace("_", " "))}</span>'
        for name, color in colors.items()
    )
