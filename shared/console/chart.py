"""The sync-health chart as geometry: bars the template draws as an inline SVG, on the server
(no script; the CSP allows none). Pure: from ``shared.repair.health.DayHealth`` rows to
rectangles, axis ticks and labels, so the drawing is tested without a browser.

Each day is a group of bars, one per series, oldest day on the left; the y axis starts at 0 and
ends at a round number at or above the busiest day's count. Colours come from ``console.css``
(``.series-<name>``), never from inline styles."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shared.repair.health import DayHealth

SERIES: tuple[tuple[str, str], ...] = (
    ("received", "Received"),
    ("synced", "Synced"),
    ("failed", "Failed"),
    ("dead_lettered", "Dead-lettered"),
)
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28
LABEL_EVERY = 5  # days between date labels
TICKS = 5  # gridlines above the baseline


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    label: str  # "2026-11-30: 12 synced", the bar's tooltip


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    days: tuple[DayLabel, ...]
    empty: bool  # nothing happened on any day


def scale_top(peak: int) -> int:
    """A round number at or above ``peak``: 1, 2 or 5 times a power of ten, at least 5, so
    each of the ``TICKS`` gridlines falls on a whole number."""
    if peak <= 5:
        return 5
    power = int(10 ** math.floor(math.log10(peak)))
    for step in (1, 2, 5, 10):
        if step * power >= peak:
            return step * power
    return 10 * power


def build(rows: Sequence[DayHealth]) -> Chart:
    """``rows`` newest first, as ``health.days`` returns them."""
    ordered = list(reversed(rows))
    names = [name for name, _ in SERIES]
    peak = max((int(r.counts.get(n, 0)) for r in ordered for n in names), default=0)
    top = scale_top(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    slot = plot_w / max(len(ordered), 1)
    bar_w = slot * 0.8 / len(SERIES)
    bars: list[Bar] = []
    labels: list[DayLabel] = []
    for index, row in enumerate(ordered):
        x0 = LEFT + index * slot + slot * 0.1
        for offset, (name, title) in enumerate(SERIES):
            value = int(row.counts.get(name, 0))
            height = plot_h * value / top
            bars.append(
                Bar(
                    round(x0 + offset * bar_w, 2),
                    round(baseline - height, 2),
                    round(bar_w, 2),
                    round(height, 2),
                    name,
                    f"{row.day}: {value} {title.lower()}",
                )
            )
        newest = index == len(ordered) - 1
        if (len(ordered) - 1 - index) % LABEL_EVERY == 0 or newest:
            labels.append(DayLabel(round(LEFT + (index + 0.5) * slot, 2), row.day[5:]))
    ticks = tuple(
        Tick(round(baseline - plot_h * i / TICKS, 2), f"{top * i // TICKS}")
        for i in range(TICKS + 1)
    )
    return Chart(WIDTH, HEIGHT, LEFT, baseline, tuple(bars), ticks, tuple(labels), peak == 0)
