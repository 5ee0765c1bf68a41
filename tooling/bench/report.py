"""What ``make bench`` prints, kept as it prints it, so that the same run writes
``docs/benchmarks.md``: one section per part of the bench, each a table of figures (with its
ratio to the floor or baseline measured in the same run), plus any plot a section draws.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    headers: tuple[str, ...] = ("figure", "value", "note")
    widths: tuple[int, ...] = (48, 14, -1)  # console column widths; negative: left-aligned
    rows: list[tuple[str, ...]] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # lines below the table (plots, answers)


SECTIONS: list[Section] = []
HAND_BACK = "BENCH_SECTIONS_TO"  # where a section run apart writes its sections


def section(title: str, *text: str) -> None:
    """Start a section: its title, and what it measures in a sentence or two."""
    SECTIONS.append(Section(title, list(text)))
    print(f"\n{title}")
    for line in text:
        print(f"   {line}")


def _current() -> Section:
    if not SECTIONS:
        section("make bench")
    return SECTIONS[-1]


def row(label: str, value: str, note: str = "") -> None:
    """One figure of a section's figure/value/note table."""
    print(f"   {label:48} {value:>14}  {note}")
    _current().rows.append((label.strip(), value.strip(), note.strip()))


def table(headers: tuple[str, ...], widths: tuple[int, ...]) -> None:
    """Make the current section's table one of these columns (negative width: left-aligned)."""
    current = _current()
    current.headers, current.widths = headers, widths
    print("   " + _cells(headers, widths))


def cells(*values: str) -> None:
    """One row of a table declared with ``table``."""
    current = _current()
    print("   " + _cells(values, current.widths))
    current.rows.append(tuple(values))


def _cells(values: tuple[str, ...], widths: tuple[int, ...]) -> str:
    return " ".join(
        f"{v:<{-w}}" if w < 0 else f"{v:>{w}}" for v, w in zip(values, widths, strict=False)
    )


def after(line: str) -> None:
    """A line under the current section's table (printed too)."""
    print(f"   {line}")
    _current().after.append(line)


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores (shared with other work; load average at the end "
        f"{load})",
        f"- memory: {memory} GiB; {platform.platform()}; Python {sys.version.split()[0]}",
        f"- commit {commit or 'unknown'}, run finished "
        + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    ]


def markdown(environment: dict[str, str], took: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tooling/bench`) from the run whose figures it shows; do not "
        "edit by hand. Every figure sits next to the floor or baseline it is judged against, "
        "measured in the same run on the same machine. Tests assert behaviour only; speed is "
        "measured here.",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "make bench   # the full sizes below; section 9 needs gcloud on PATH (the emulators)",
        "BENCH_SUBSCRIPTIONS=500 BENCH_BACKFILL_CUSTOMERS=500 BENCH_RUNS=3 make bench  # quick",
        "```",
        "",
        "Sizes of this run: "
        + (
            ", ".join(f"`{k}={v}`" for k, v in sorted(environment.items()))
            or "the defaults, the full sizes the issues name"
        )
        + f". The whole run took {took / 60:.0f} minutes.",
        "",
        "Machine:",
        "",
        *machine(),
    ]
    for part in SECTIONS:
        lines += ["", f"## {part.title}", ""]
        lines += part.text
        if part.text:
            lines.append("")
        if part.rows:
            lines.append("| " + " | ".join(part.headers) + " |")
            lines.append("|" + "---|" * len(part.headers))
            for values in part.rows:
                padded = [*values, *[""] * (len(part.headers) - len(values))]
                lines.append("| " + " | ".join(v.replace("|", "\\|") for v in padded) + " |")
        for line in part.after:
            lines += ["", line]
    return "\n".join(lines) + "\n"


def apart(module: str) -> None:
    """Run a section (``python -m module``) in a process of its own and take its tables into
    this run's report. The doubles are served from the bench's process, so a section run in it
    shares the GIL and the heap with what earlier sections left behind: the backfill measured
    0.84x-0.85x of its ceiling inside ``make bench`` and 0.97x-0.99x run alone, on one commit."""
    with tempfile.TemporaryDirectory(prefix="omniroo-bench-") as scratch:
        target = Path(scratch) / "sections.json"
        subprocess.run(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, HAND_BACK: str(target)},
            check=True,
        )
        for found in json.loads(target.read_text()):
            SECTIONS.append(
                Section(
                    found["title"],
                    found["text"],
                    tuple(found["headers"]),
                    tuple(found["widths"]),
                    [tuple(values) for values in found["rows"]],
                    found["after"],
                )
            )


def hand_back() -> None:
    """In a section run ``apart``: give its sections to the run that started it."""
    target = os.environ.get(HAND_BACK)
    if target:
        Path(target).write_text(json.dumps([asdict(part) for part in SECTIONS]))


def write(path: Path, environment: dict[str, str], took: float) -> None:
    path.write_text(markdown(environment, took))
    print(f"\nwrote {path.relative_to(ROOT)}")
