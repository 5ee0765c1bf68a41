"""HubSpot's rate limits (rolling ten-second, daily, and the search API's per-second) and the
faults tests switch on: error statuses, slow answers and timeouts.

Backed by HubSpot's API usage guidelines (https://developers.hubspot.com/docs/api/usage-details):
- a rolling ten-second window per app and account (100 requests on Free and Starter, 190 on
  Professional and Enterprise: ``HubSpotDouble(rate_limit=...)``), and a daily quota for private
  apps only;
- every answer carries ``X-HubSpot-RateLimit-Max``, ``-Remaining`` and ``-Interval-Milliseconds``;
  private apps also ``-Daily`` and ``-Daily-Remaining``, which OAuth calls never get, having no
  daily limit (changelogs https://developers.hubspot.com/changelog/2018-11-06-rate-limit-
  information-headers-will-be-included-in-http-responses and https://developers.hubspot.com/
  changelog/rate-limit-headers-will-now-appear-for-oauth-authenticated-calls);
- a refusal is a 429 whose body is ``{"status": "error", "message": "You have reached your
  ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "correlationId": ..., "policyName":
  "TEN_SECONDLY_ROLLING"}`` (``"DAILY"`` and "daily limit" for the quota), the guidelines' example;
- the CRM search endpoints have their own limit of five requests per second per account and send
  no rate-limit headers (https://developers.hubspot.com/docs/api/crm/search, "Limitations").

Not confirmed by HubSpot's documentation, kept because real answers show them: ``groupName`` in
the 429 body (absent from the documented example); the search limit's 429 naming the policy
``SECONDLY``; the daily quota resetting at midnight UTC (HubSpot resets it at midnight in the
account's time zone).
"""

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from doubles.hubspot.wire import HubSpotError, correlation_id

FAULT_KINDS = ("status", "timeout", "latency")
_POLICY_WORDS = {
    "TEN_SECONDLY_ROLLING": "ten_secondly_rolling",
    "SECONDLY": "secondly",
    "DAILY": "daily",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    policy: str  # which limit refused, when refused
    headers: dict[str, str]


class RateLimiter:
    """A rolling window of ``limit`` requests per key, plus an optional daily quota."""

    def __init__(
        self,
        limit: int,
        window_ms: int,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        daily_limit: int | None = None,
        policy: str = "TEN_SECONDLY_ROLLING",
    ) -> None:
        self.limit, self.window_ms, self.policy = limit, window_ms, policy
        self.daily_limit = daily_limit
        self._clock, self._wall_clock = clock, wall_clock
        self._hits: dict[Any, deque[float]] = {}
        self._daily: dict[Any, tuple[str, int]] = {}

    def hit(self, key: Any, daily: bool = True) -> Decision:
        """Count one request for ``key`` unless a limit refuses it (refusals count for nothing).
        ``daily=False``: this caller has no daily quota (and gets no daily headers)."""
        quota = self.daily_limit if daily else None
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_ms / 1000.0:
            hits.popleft()
        day = datetime.fromtimestamp(self._wall_clock(), UTC).strftime("%Y-%m-%d")
        seen_day, used_today = self._daily.get(key, (day, 0))
        used_today = used_today if seen_day == day else 0
        refused = ""
        if len(hits) >= self.limit:
            refused = self.policy
        elif quota is not None and used_today >= quota:
            refused = "DAILY"
        if not refused:
            hits.append(now)
            used_today += 1
            self._daily[key] = (day, used_today)
        headers = {
            "X-HubSpot-RateLimit-Max": str(self.limit),
            "X-HubSpot-RateLimit-Remaining": str(0 if refused else self.limit - len(hits)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.window_ms),
        }
        if quota is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(quota)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(quota - used_today)
        return Decision(not refused, refused, headers)


def rate_limited(policy: str, group: str, headers: dict[str, str] | None = None) -> HubSpotError:
    body = {
        "status": "error",
        "message": f"You have reached your {_POLICY_WORDS[policy]} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "groupName": group,
    }
    return HubSpotError(429, body, headers)


@dataclass
class Fault:
    kind: str
    count: int | None  # None: every matching request
    status: int
    seconds: float
    path_contains: str | None
    portal: int | None
    share: float = 1.0  # the share of matching requests it hits, drawn at random

    def matches(self, path: str, portal: int | None) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.path_contains is not None and self.path_contains not in path:
            return False
        if self.portal is not None and self.portal != portal:
            return False
        return self.share >= 1.0 or random.random() < self.share

    def use(self) -> None:
        if self.count is not None:
            self.count -= 1


@dataclass(frozen=True)
class Outcome:
    """What the faults do to one request: an error status, a wait before answering, or both."""

    status: int | None = None
    delay: float = 0.0
    timeout: bool = False


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {fault.kind!r}")
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, path: str, portal: int | None) -> Outcome:
        """Consume the faults that apply to this request: the first status or timeout one, and
        every latency one."""
        status, delay, timeout = None, 0.0, False
        for fault in self._faults:
            if not fault.matches(path, portal):
                continue
            if fault.kind == "latency":
                fault.use()
                delay += fault.seconds
            elif status is None and not timeout:
                fault.use()
                if fault.kind == "status":
                    status = fault.status
                else:
                    timeout, delay = True, delay + fault.seconds
        self._faults = [f for f in self._faults if f.count is None or f.count > 0]
        return Outcome(status, delay, timeout)
