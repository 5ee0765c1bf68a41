"""The health chart's geometry and the failure explanations: pure functions, no browser."""

from shared.console import chart, explain
from shared.repair.health import COUNTERS, DayHealth


def day(name: str, **counts: int) -> DayHealth:
    return DayHealth("prj", name, {**dict.fromkeys(COUNTERS, 0), **counts})


def test_bars_are_oldest_first_scaled_to_a_round_top_and_labelled() -> None:
    rows = [day("2026-11-30", received=7, synced=5, failed=2), day("2026-11-29", received=1)]
    built = chart.build(rows)
    assert not built.empty
    assert [t.label for t in built.ticks] == ["0", "2", "4", "6", "8", "10"]
    assert len(built.bars) == 2 * len(chart.SERIES)
    oldest, newest = built.bars[0], built.bars[len(chart.SERIES)]
    assert oldest.label == "2026-11-29: 1 received" and oldest.x < newest.x
    assert newest.label == "2026-11-30: 7 received"
    assert newest.y + newest.height == built.baseline
    assert round(newest.height, 1) == round((built.baseline - chart.TOP) * 7 / 10, 1)
    failed = [b for b in built.bars if b.series == "failed" and b.height]
    assert [b.label for b in failed] == ["2026-11-30: 2 failed"]
    assert [d.label for d in built.days] == ["11-30"]


def test_thirty_quiet_days_draw_nothing_and_say_so() -> None:
    built = chart.build([day(f"2026-11-{n:02d}") for n in range(30, 0, -1)])
    assert built.empty and all(b.height == 0 for b in built.bars)
    assert [d.label for d in built.days] == [f"11-{n:02d}" for n in (5, 10, 15, 20, 25, 30)]


def test_scale_tops_are_round() -> None:
    assert [chart.scale_top(n) for n in (0, 3, 5, 6, 11, 20, 21, 99_001)] == [
        5, 5, 5, 10, 20, 20, 50, 100_000,
    ]  # fmt: skip
    for top in (5, 10, 20, 50, 100):
        assert top % chart.TICKS == 0


def test_every_code_gets_an_explanation_known_family_or_generic() -> None:
    assert explain.explain("email_in_use").action.startswith("Give one of the two")
    assert explain.explain("stripe_too_many_line_items").replayable is False
    assert explain.explain("hubspot_429") is dict(explain.FAMILIES)["hubspot_"]
    assert explain.explain("something_new") is explain.GENERIC
