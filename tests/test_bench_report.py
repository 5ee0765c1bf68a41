"""``make bench`` writes docs/benchmarks.md from what it printed (``tooling/bench/report.py``) and
draws the burst's drain as an SVG (``tooling/bench/plot.py``). Only the shape of what is written
is checked here; the figures themselves are measured by ``make bench``, never asserted."""

import xml.etree.ElementTree as ET

import pytest

from tooling.bench import plot, report


@pytest.fixture(autouse=True)
def fresh_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "SECTIONS", [])


def test_every_printed_figure_lands_in_its_sections_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report.section("1. Alpha", "What alpha measures.")
    report.row("floor", "2.0 s", "1.00x")
    report.row("drain | total", "3.0 s", "1.50x")
    report.section("2. Beta")
    report.table(("name", "ms"), (-10, 6))
    report.cells("one", "12")
    report.after("a line under the table")

    text = report.markdown({"BENCH_RUNS": "3"}, 120.0)

    printed = capsys.readouterr().out
    assert "1. Alpha" in printed and "3.0 s" in printed and "a line under the table" in printed
    assert "`BENCH_RUNS=3`" in text and "took 2 minutes" in text
    alpha, beta = text.split("## 1. Alpha")[1].split("## 2. Beta")
    assert "| figure | value | note |" in alpha
    assert "| floor | 2.0 s | 1.00x |" in alpha
    assert "| drain \\| total | 3.0 s | 1.50x |" in alpha  # a pipe in a label keeps the table
    assert "| name | ms |\n|---|---|\n| one | 12 |" in beta
    assert beta.rstrip().endswith("a line under the table")


def test_the_drain_plot_is_an_svg_with_a_line_per_series_and_a_marker_per_floor() -> None:
    lines = [
        plot.Line("events <acknowledged>", [(0.0, 0.0), (5.0, 0.5), (10.0, 1.0)]),
        plot.Line("records written", [(0.0, 0.0), (12.0, 1.0)]),
    ]
    root = ET.fromstring(plot.svg("Burst & drain", lines, [("floor", 10.0), ("2x floor", 20.0)]))

    ns = "{http://www.w3.org/2000/svg}"
    polylines = root.findall(f"{ns}polyline")
    assert len(polylines) == 3  # the axes and one per series
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert "Burst & drain" in texts and "events <acknowledged>" in texts
    assert "floor" in texts and "2x floor" in texts
    dashed = [x for x in root.findall(f"{ns}line") if x.get("stroke-dasharray")]
    assert [float(x.get("x1", "0")) for x in dashed] == sorted(
        float(x.get("x1", "0")) for x in dashed
    )
    assert len(dashed) == 2


def test_a_section_run_apart_joins_the_report_as_it_printed_it(
    capfd: pytest.CaptureFixture[str],
) -> None:
    import os

    report.section("7. Here")
    report.apart("tests.bench_apart_section")

    [here, apart] = report.SECTIONS
    assert here.title == "7. Here" and apart.title == "8. Apart"
    assert apart.text != [f"Measured in process {os.getpid()}."]  # another process measured it
    assert "| records \\| written | 900 | 0.95x |" in report.markdown({}, 60.0)
    assert apart.after == ["a line under the table"]
    assert "records | written" in capfd.readouterr().out  # printed as it ran, too
