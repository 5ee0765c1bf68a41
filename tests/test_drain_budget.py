"""A portal's HubSpot budget (``shared.drain.budget``): the rolling window, the search API's own
limit, pauses after a 429, what the headers teach it, and what a lease hands over (row 19)."""

import threading
import time

import pytest

from shared.clock import FakeClock, SystemClock
from shared.drain.budget import SEARCH_PER_SECOND, WINDOW_MARGIN, Budget


def test_a_full_window_waits_for_its_oldest_call_to_leave() -> None:
    clock = FakeClock()
    budget = Budget(3, clock)
    start = clock.now()
    for _ in range(3):
        budget.before()
    assert clock.sleeps == []
    budget.before()
    assert clock.now() == pytest.approx(start + 10 + WINDOW_MARGIN)
    assert budget.sent == 4 and budget.waited == pytest.approx(10 + WINDOW_MARGIN)


def test_calls_spread_over_time_never_wait() -> None:
    clock = FakeClock()
    budget = Budget(10, clock)
    for _ in range(50):
        budget.before()
        clock.advance(1.1)
    assert clock.sleeps == []


def test_search_has_its_own_per_second_limit() -> None:
    clock = FakeClock()
    budget = Budget(100, clock)
    start = clock.now()
    for _ in range(SEARCH_PER_SECOND):
        budget.before("search")
    budget.before("crm")  # other calls are not held back by searches
    assert clock.now() == start
    budget.before("search")
    assert clock.now() == pytest.approx(start + 1 + WINDOW_MARGIN)


def test_a_429_pauses_every_caller() -> None:
    clock = FakeClock()
    budget = Budget(100, clock)
    start = clock.now()
    budget.refused(2.0)
    budget.before()
    assert clock.now() == pytest.approx(start + 2.0)


def test_a_smaller_max_header_lowers_the_budget() -> None:
    clock = FakeClock()
    budget = Budget(110, clock)
    budget.after({"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "99"})
    assert budget.limit == 100
    budget.after({"X-HubSpot-RateLimit-Max": "190"})
    assert budget.limit == 110  # never above what it was given


def test_calls_someone_else_made_are_counted() -> None:
    clock = FakeClock()
    budget = Budget(10, clock)
    budget.before()
    # HubSpot says 4 calls are gone from the window: 3 were not ours (the console, say).
    budget.after({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "6"})
    assert len(budget.recent()) == 4
    for _ in range(6):
        budget.before()
    assert clock.sleeps == []
    budget.before()
    assert clock.sleeps != []


def test_seed_counts_the_last_holders_calls_once() -> None:
    clock = FakeClock()
    last = Budget(5, clock)
    for _ in range(5):
        last.before()
    handed, handed_at = last.recent(), clock.now()
    fresh = Budget(5, clock)
    fresh.seed(handed)
    fresh.before()
    assert clock.sleeps  # the window was full with the previous holder's calls
    again = Budget(5, FakeClock(handed_at))
    again.seed(handed)
    again.seed(handed)  # the same process taking the lease back: nothing counted twice
    assert len(again.recent()) == 5


def test_threads_sharing_a_budget_never_exceed_it() -> None:
    """Row 19 within one process: 20 threads, a budget of 5 calls per 0.3 s."""
    budget = Budget(5, SystemClock(), window=0.3)
    sent: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            budget.before()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(sent) == 60
    sent.sort()
    # Any 0.3 s holds at most 5 calls (monotonic time; the budget keeps a margin on top).
    for i, at in enumerate(sent):
        assert len([t for t in sent[i:] if t < at + 0.3]) <= 5


def test_a_budget_allows_at_least_one_call() -> None:
    with pytest.raises(ValueError):
        Budget(0, FakeClock())
