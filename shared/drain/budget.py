"""A portal's HubSpot call budget, as the drainer holding the portal's lease spends it.

HubSpot limits calls per app and portal over a rolling ten seconds (100 for private apps on
Free and Starter, 110 for OAuth apps, 190 on Professional and Enterprise) and the search API to
about five a second, which sends no rate-limit headers (RELIABILITY.md, "Facts behind the rows";
developers.hubspot.com/docs/guides/apps/api-usage/usage-details). Only the drainer holding a
portal's lease (``shared.drain.lease``) writes to that portal, so its budget, kept here, is the
portal's budget across every instance: the lease carries the timestamps of the last window's
calls from one holder to the next.

- ``before`` blocks until a call fits in the rolling window (and no 429 pause is running);
- ``after`` reads ``X-HubSpot-RateLimit-*``: a smaller ``Max`` lowers the budget, and a
  ``Remaining`` below what this budget believes (another client of the same app and portal, such
  as the console) is booked as calls made now;
- ``refused`` pauses every caller after a 429.

Thread-safe: a drainer sends its batch calls from a few threads at once.
"""

import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping

from shared.clock import Clock
from shared.hubspot.calls import header_number

WINDOW_SECONDS = 10.0
# Our clock and HubSpot's see a call at slightly different moments: keep the window a little
# longer than HubSpot's, so that a call leaving as one falls out never lands inside its window.
WINDOW_MARGIN = 0.25
SEARCH_PER_SECOND = 4  # HubSpot allows about 5; search answers carry no headers to pace by


class Budget:
    def __init__(self, limit: int, clock: Clock, window: float = WINDOW_SECONDS) -> None:
        if limit < 1:
            raise ValueError("a budget allows at least one call per window")
        self._configured = limit
        self.limit = limit
        self._window = window + WINDOW_MARGIN
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._searches: deque[float] = deque()
        self._paused_until = 0.0
        self.sent = 0
        self.waited = 0.0

    def before(self, kind: str = "crm") -> None:
        """Wait until one more call of ``kind`` ("crm" or "search") fits, and book it."""
        while True:
            with self._lock:
                now = self._clock.now()
                wait = self._wait(now, kind)
                if wait <= 0:
                    self._calls.append(now)
                    if kind == "search":
                        self._searches.append(now)
                    self.sent += 1
                    return
                self.waited += wait
            self._clock.sleep(wait)

    def _wait(self, now: float, kind: str) -> float:
        while self._calls and self._calls[0] <= now - self._window:
            self._calls.popleft()
        while self._searches and self._searches[0] <= now - 1.0 - WINDOW_MARGIN:
            self._searches.popleft()
        waits = [self._paused_until - now]
        if len(self._calls) >= self.limit:
            waits.append(self._calls[len(self._calls) - self.limit] + self._window - now)
        if kind == "search" and len(self._searches) >= SEARCH_PER_SECOND:
            oldest = self._searches[len(self._searches) - SEARCH_PER_SECOND]
            waits.append(oldest + 1.0 + WINDOW_MARGIN - now)
        return max(waits)

    def after(self, headers: Mapping[str, str] | None) -> None:
        """Learn from an answer's rate-limit headers."""
        most = header_number(headers, "X-HubSpot-RateLimit-Max")
        remaining = header_number(headers, "X-HubSpot-RateLimit-Remaining")
        with self._lock:
            now = self._clock.now()
            if most and most >= 1:
                self.limit = min(self._configured, int(most))
            if remaining is None:
                return
            self._wait(now, "crm")  # drop what left the window
            # Calls in flight are booked here before HubSpot counts them, so HubSpot can only
            # see more than we believe when someone else spends the same budget.
            unseen = int(self.limit - remaining) - len(self._calls)
            self._calls.extend([now] * max(0, unseen))
            self._calls = deque(sorted(self._calls))

    def refused(self, seconds: float) -> None:
        """HubSpot answered 429: nobody calls for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.now() + seconds)

    def recent(self) -> list[float]:
        """The calls still inside the window: what the next lease holder must count."""
        with self._lock:
            self._wait(self._clock.now(), "crm")
            return list(self._calls)

    def seed(self, calls: Iterable[float]) -> None:
        """Count the calls the lease says its last holder made. A call this budget already
        counts (the same process held the lease before) is counted once."""
        with self._lock:
            merged = Counter(self._calls) | Counter(calls)
            self._calls = deque(sorted(merged.elements()))
            self._wait(self._clock.now(), "crm")
