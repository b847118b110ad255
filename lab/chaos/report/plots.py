"""The pictures of a chaos report, as inline SVG (no script, no external file, so the
page opens anywhere and a browser test can read it): throughput and latency over time
per outcome with the faults shaded and each client kind's recovery marked, a stock
client's throughput, and one anomaly cycle drawn as a small graph.

Pure functions of a history and numbers, unit-tested; lab/chaos/report/publish.py lays them
out on the page."""

from __future__ import annotations

import html
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from lab.chaos.history import FINAL, Fault, History

COLOURS = {"ok": "#2e7d32", "fail": "#c62828", "info": "#ef6c00"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 1000, 190, 56, 22, 18


@dataclass(frozen=True)
class Series:
    """One line of a chart: (time in s, value) points."""

    label: str
    colour: str
    points: tuple[tuple[float, float], ...]
    dashed: bool = False


@dataclass(frozen=True)
class Mark:
    """A vertical line at time `at` with a label (a recovery)."""

    at: float
    label: str


def end_of(history: History) -> float:
    ends = [op.end for op in history.ops if op.process != FINAL]
    return max([*ends, *(f.end or 0.0 for f in history.faults), 1.0])


def rate_series(history: History, bin_s: float = 1.0) -> list[Series]:
    """Operations per second by outcome, in bins of `bin_s` by completion time."""
    bins = math.ceil(end_of(history) / bin_s)
    series = []
    for outcome, colour in COLOURS.items():
        counts = [0] * bins
        for op in history.ops:
            if op.outcome == outcome and op.process != FINAL:
                counts[min(bins - 1, int(op.end / bin_s))] += 1
        points = tuple(((i + 1) * bin_s, n / bin_s) for i, n in enumerate(counts))
        series.append(Series(outcome, colour, points))
    return series


def latency_series(history: History, bin_s: float = 1.0) -> list[Series]:
    """Median and 95th percentile latency (ms) of acknowledged operations per bin."""
    bins: dict[int, list[float]] = {}
    for op in history.ops:
        if op.outcome == "ok" and op.process != FINAL:
            bins.setdefault(int(op.end / bin_s), []).append((op.end - op.start) * 1000)
    p50, p95 = [], []
    for i in sorted(bins):
        values = sorted(bins[i])
        at = (i + 1) * bin_s
        p50.append((at, statistics.median(values)))
        p95.append((at, values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]))
    return [
        Series("p50", "#1565c0", tuple(p50)),
        Series("p95", "#6a1b9a", tuple(p95), dashed=True),
    ]


def line_chart(
    title: str,
    unit: str,
    series: Sequence[Series],
    faults: Sequence[Fault],
    end: float,
    marks: Sequence[Mark] = (),
    chart_id: str = "",
) -> str:
    """A line chart over [0, end] seconds: faults shaded, marks as dashed verticals."""
    top = max([v for s in series for _, v in s.points] + [1.0])
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP

    def x(t: float) -> float:
        return LEFT + t / end * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    parts = [
        f'<svg class="chart" id="{html.escape(chart_id)}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{LEFT}" y="12" font-size="12" font-weight="bold">{html.escape(title)}</text>',
    ]
    for fault in faults:
        right = fault.end if fault.end is not None and fault.end > fault.start else end
        parts.append(
            f'<rect class="fault" x="{x(fault.start):.1f}" y="{TOP}" '
            f'width="{max(2.0, x(right) - x(fault.start)):.1f}" height="{plot_h}" '
            f'fill="#90a4ae" opacity="0.35"><title>{html.escape(fault.name)} '
            f"{html.escape(fault.target)}</title></rect>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}" '
        'stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>'
        f'<text x="2" y="{TOP + 8}" font-size="10">{top:.0f} {html.escape(unit)}</text>'
        f'<text x="2" y="{TOP + plot_h}" font-size="10">0</text>'
    )
    step = max(1, int(end) // 10 or 1)
    for second in range(0, int(end) + 1, step):
        parts.append(f'<text x="{x(second):.1f}" y="{HEIGHT - 6}" font-size="9">{second}s</text>')
    for s in series:
        if not s.points:
            continue
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s.points)
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        parts.append(
            f'<polyline class="series" data-label="{html.escape(s.label)}" fill="none" '
            f'stroke="{s.colour}" stroke-width="1.6"{dash} points="{coords}"/>'
        )
    for i, mark in enumerate(sorted(marks, key=lambda m: m.at)):
        parts.append(
            f'<line class="mark" x1="{x(mark.at):.1f}" y1="{TOP}" x2="{x(mark.at):.1f}" '
            f'y2="{TOP + plot_h}" stroke="#000" stroke-dasharray="2,2"/>'
            f'<text x="{x(mark.at) + 3:.1f}" y="{TOP + 10 + 11 * i}" font-size="10">'
            f"{html.escape(mark.label)}</text>"
        )
    legend_x = WIDTH - 10 - 90 * len(series)
    for i, s in enumerate(series):
        lx = legend_x + 90 * i
        parts.append(
            f'<line x1="{lx}" y1="8" x2="{lx + 16}" y2="8" stroke="{s.colour}" '
            f'stroke-width="2"/><text x="{lx + 20}" y="12" font-size="10">'
            f"{html.escape(s.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# "op 3 (client 1, txn ok: [...]) -ww-> op 5 (...) -rw-> op 3 (...)" (list-append's cycles)
CYCLE_STEP = re.compile(r"op (\d+) \(client (-?\d+),.*?\)(?: -([\w-]+)-> |$)")


def cycle_steps(explanation: str) -> list[tuple[str, str]]:
    """(operation, edge kind to the next) along a cycle's explanation; [] if it is not
    a cycle. The last operation repeats the first and closes the cycle."""
    if not explanation.startswith("cycle: "):
        return []
    found = [(f"op {m[1]}", m[3] or "") for m in CYCLE_STEP.finditer(explanation)]
    return found[:-1] if len(found) > 2 and found[-1][0] == found[0][0] else []


def cycle_svg(explanation: str, size: int = 220) -> str:
    """The cycle as operations on a circle with labelled arrows ("" if not a cycle)."""
    steps = cycle_steps(explanation)
    if not steps:
        return ""
    n, r, c = len(steps), size / 2 - 34, size / 2
    spots = [
        (c + r * math.cos(2 * math.pi * i / n - math.pi / 2),
         c + r * math.sin(2 * math.pi * i / n - math.pi / 2))
        for i in range(n)
    ]  # fmt: skip
    parts = [
        f'<svg class="cycle" width="{size}" height="{size}" xmlns="http://www.w3.org/2000/svg">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>"
    ]
    for i, (_, kind) in enumerate(steps):
        (x1, y1), (x2, y2) = spots[i], spots[(i + 1) % n]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        # bowed to the left of its direction, so a -> b and b -> a do not overlap
        bx, by = (x1 + x2) / 2 + uy * 24, (y1 + y2) / 2 - ux * 24
        parts.append(
            f'<path d="M{x1 + ux * 22:.1f},{y1 + uy * 22:.1f} Q{bx:.1f},{by:.1f} '
            f'{x2 - ux * 22:.1f},{y2 - uy * 22:.1f}" fill="none" stroke="#333" '
            'marker-end="url(#arrow)"/>'
            f'<text x="{bx:.1f}" y="{by:.1f}" font-size="11" fill="#c62828">'
            f"{html.escape(kind)}</text>"
        )
    for (label, _), (px, py) in zip(steps, spots, strict=True):
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="20" fill="#e3f2fd" stroke="#1565c0"/>'
            f'<text x="{px:.1f}" y="{py + 4:.1f}" font-size="10" text-anchor="middle">'
            f"{html.escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
