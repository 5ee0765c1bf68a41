"""One HubSpot call, paced by HubSpot's own rate-limit headers and translated into our errors.

``hubspot-api-client`` retries only through ``urllib3.Retry``, whose defaults skip POST, and
batch and search calls are POSTs; so 429s are handled here: the call waits (with jitter) and tries
again a bounded number of times, then gives up with ``RemoteUnavailable`` so that the work is
retried later. 5xx and timeouts give up at once unless the caller allows ``retries`` (the
drainer does: one batch call stands for a hundred records). A 429 of the ``DAILY`` policy is
``DailyLimitReached``: nothing more goes to that portal today.

Without a ``pacer`` the call spreads the next one out when the headers say the window is nearly
spent; with one (the drainer's per-portal ``Budget``) every attempt first waits for the pacer,
which learns from each answer's headers and from every 429.
"""

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from shared.clock import Clock
from shared.errors import PermanentFailure, RemoteUnavailable

MAX_429_RETRIES = 4
LOW_WATER = 0.1  # slow down once fewer than this share of the window's calls remain
RETRY_BASE = 0.5  # first wait before retrying a 5xx or a timeout, doubled each time


class Pacer(Protocol):
    def before(self, kind: str = "crm") -> None:
        """Block until one more call may go."""
        ...

    def after(self, headers: Mapping[str, str] | None) -> None:
        """Learn from an answer's rate-limit headers."""
        ...

    def refused(self, seconds: float) -> None:
        """HubSpot answered 429: hold every call for ``seconds``."""
        ...


class DailyLimitReached(RemoteUnavailable):
    """HubSpot's daily limit for this app and portal is spent: wait, do not retry now."""


class HubSpotRejected(PermanentFailure):
    """HubSpot refused this request for good (4xx). Carries what callers may act on."""

    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(f"hubspot_{category.lower() or status}", status)
        self.category = category
        # The raw message may quote record values: never log or store it, only parse it.
        self.detail = message


@dataclass(frozen=True)
class Reply:
    data: Any
    status: int
    headers: Mapping[str, str]


def _body(exc: Any) -> dict[str, Any]:
    try:
        body = json.loads(exc.body or b"{}")
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def header_number(headers: Mapping[str, str] | None, name: str) -> float | None:
    """A numeric response header by name, any case; None when absent or not a number."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _pace(headers: Mapping[str, str] | None, clock: Clock) -> None:
    limit = header_number(headers, "X-HubSpot-RateLimit-Max")
    remaining = header_number(headers, "X-HubSpot-RateLimit-Remaining")
    interval = header_number(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    if limit and remaining is not None and interval and remaining < limit * LOW_WATER:
        clock.sleep(interval / 1000.0 / limit)


def call(
    fn: Callable[[], tuple[Any, int, Mapping[str, str]]],
    clock: Clock,
    is_api_error: Callable[[BaseException], bool],
    jitter: Callable[[], float] = random.random,
    pacer: Pacer | None = None,
    retries: int = 0,
    kind: str = "crm",
) -> Reply:
    """Run ``fn`` (a ``*_with_http_info`` call) under HubSpot's rate limit; ``retries`` more
    attempts after a 5xx, a timeout or a connection error, with jittered exponential backoff."""
    limited = failed = 0
    while True:
        if pacer is not None:
            pacer.before(kind)
        try:
            data, status, headers = fn()
        except urllib3.exceptions.HTTPError as exc:
            if failed < retries:
                clock.sleep(RETRY_BASE * 2**failed * (0.5 + jitter() / 2))
                failed += 1
                continue
            raise RemoteUnavailable("hubspot_unreachable") from exc
        except Exception as exc:
            if not is_api_error(exc):
                raise
            status = int(getattr(exc, "status", 0) or 0)
            body = _body(exc)
            exc_headers = getattr(exc, "headers", None)
            if status == 429 and body.get("policyName") == "DAILY":
                raise DailyLimitReached("hubspot_daily_limit") from None
            if status == 429 and limited < MAX_429_RETRIES:
                interval = "X-HubSpot-RateLimit-Interval-Milliseconds"
                window = (header_number(exc_headers, interval) or 10_000) / 1000.0
                wait = min(window, 0.5 * 2**limited) * (0.5 + jitter() / 2)
                limited += 1
                if pacer is None:
                    clock.sleep(wait)
                else:
                    pacer.refused(wait)
                continue
            if (status >= 500 or status == 0) and failed < retries:
                clock.sleep(RETRY_BASE * 2**failed * (0.5 + jitter() / 2))
                failed += 1
                continue
            if status == 429 or status >= 500 or status == 0:
                raise RemoteUnavailable(f"hubspot_{status or 'error'}") from None
            raise HubSpotRejected(
                status, str(body.get("category") or ""), str(body.get("message") or "")
            ) from None
        if pacer is None:
            _pace(headers, clock)
        else:
            pacer.after(headers)
        return Reply(data, status, headers)
