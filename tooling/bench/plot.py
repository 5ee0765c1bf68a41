"""A line chart as a standalone SVG file, for ``docs/benchmarks.md``: the month-start burst's
drain over time. Written by hand (no plotting library is a dependency of the project): a few
polylines on axes, with vertical markers (the floor, twice the floor).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 30, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


@dataclass
class Line:
    label: str
    points: Sequence[tuple[float, float]]  # (seconds, share of the total, 0..1)


def _ticks(top: float, count: int = 6) -> list[float]:
    steps = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
    step = next((s for s in steps if top / s <= count), steps[-1])
    return [i * step for i in range(int(top // step) + 1)]


def svg(title: str, lines: Sequence[Line], markers: Sequence[tuple[str, float]]) -> str:
    """Shares (0..1) over seconds, one polyline per line, a dashed vertical line per marker."""
    end = max([x for line in lines for x, _ in line.points] + [m for _, m in markers] + [1.0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> str:
        return f"{LEFT + x / end * plot_w:.1f},{TOP + (1 - y) * plot_h:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="14">{escape(title)}</text>',
        f'<polyline points="{at(0, 1)} {at(0, 0)} {at(end, 0)}" fill="none" stroke="black"/>',
    ]
    for tick in _ticks(end):
        x, y = at(tick, 0).split(",")
        parts.append(f'<text x="{x}" y="{float(y) + 16}" text-anchor="middle">{tick:g}</text>')
    for share in (0, 0.25, 0.5, 0.75, 1):
        x, y = at(0, share).split(",")
        parts.append(f'<text x="{float(x) - 6}" y="{y}" text-anchor="end">{share:.0%}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#eee"/>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        "seconds since the first event was sent</text>"
    )
    for label, when in markers:
        top, bottom = at(when, 1).split(","), at(when, 0).split(",")
        parts.append(
            f'<line x1="{top[0]}" y1="{top[1]}" x2="{bottom[0]}" y2="{bottom[1]}" '
            'stroke="#777" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{float(top[0]) - 3}" y="{TOP + 12}" text-anchor="end" fill="#555">'
            f"{escape(label)}</text>"
        )
    for i, line in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(at(x, y) for x, y in line.points)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        legend_y = TOP + plot_h - 14 - 16 * i
        parts.append(
            f'<text x="{WIDTH - RIGHT - 8}" y="{legend_y}" text-anchor="end" fill="{colour}">'
            f"{escape(line.label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(
    path: Path, title: str, lines: Sequence[Line], markers: Sequence[tuple[str, float]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(title, lines, markers))
