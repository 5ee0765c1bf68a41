"""The health page's "last 24 hours" share, from the day counters rather than every outcome:
today in full, yesterday weighted by the part of it inside the window."""

from datetime import UTC, datetime

from shared.console.health_pages import Share, share_synced
from shared.repair.health import COUNTERS, DayHealth


def _day(day: str, **counts: int) -> DayHealth:
    return DayHealth("prj_1", day, {**dict.fromkeys(COUNTERS, 0), **counts})


NOON = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()  # half of yesterday is in the window


def test_today_counts_in_full_and_yesterday_by_its_part_in_the_window() -> None:
    rows = [
        _day("2026-11-30", synced=60, failed=10),
        _day("2026-11-29", synced=100, failed=20),
        _day("2026-11-28", synced=1000, failed=1000),  # outside the window
    ]
    assert share_synced(rows, NOON) == Share(110, 130)
    assert share_synced(rows, NOON).percent == 84


def test_just_after_midnight_yesterday_counts_almost_whole() -> None:
    rows = [_day("2026-11-30"), _day("2026-11-29", synced=96, failed=0)]
    just_after = datetime(2026, 11, 30, 0, 15, tzinfo=UTC).timestamp()
    assert share_synced(rows, just_after) == Share(95, 95)


def test_dead_letters_count_as_failed_and_replays_take_failures_off() -> None:
    rows = [_day("2026-11-30", synced=8, failed=3, dead_lettered=1, replayed=2)]
    assert share_synced(rows, NOON) == Share(8, 10)
    assert share_synced([_day("2026-11-30", synced=3, failed=3, replayed=3)], NOON).percent == 100


def test_nothing_settled_has_no_share() -> None:
    assert share_synced([_day("2026-11-30", received=5)], NOON).percent is None
    assert share_synced([], NOON).percent is None
