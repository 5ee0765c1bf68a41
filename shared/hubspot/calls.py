"""One HubSpot call, paced by HubSpot's own rate-limit headers and translated into our errors.

``hubspot-api-client`` retries only through ``urllib3.Retry``, whose defaults skip POST, and
batch and search calls are POSTs; so 429s are handled here: the call waits (with jitter) and tries
again a bounded number of times, then gives up with ``RemoteUnavailable`` so the queue redelivers
later. 5xx and timeouts give up at once: the queue's own backoff is the retry. When the headers
say the window is nearly spent, the next call is spread out instead of hitting the wall.
"""

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3

from shared.clock import Clock
from shared.errors import PermanentFailure, RemoteUnavailable

MAX_429_RETRIES = 4
LOW_WATER = 0.1  # slow down once fewer than this share of the window's calls remain


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


def _header(headers: Mapping[str, str] | None, name: str) -> float | None:
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
    limit = _header(headers, "X-HubSpot-RateLimit-Max")
    remaining = _header(headers, "X-HubSpot-RateLimit-Remaining")
    interval = _header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    if limit and remaining is not None and interval and remaining < limit * LOW_WATER:
        clock.sleep(interval / 1000.0 / limit)


def call(
    fn: Callable[[], tuple[Any, int, Mapping[str, str]]],
    clock: Clock,
    is_api_error: Callable[[BaseException], bool],
    jitter: Callable[[], float] = random.random,
) -> Reply:
    """Run ``fn`` (a ``*_with_http_info`` call) under HubSpot's rate limit."""
    for attempt in range(MAX_429_RETRIES + 1):
        try:
            data, status, headers = fn()
        except urllib3.exceptions.HTTPError as exc:
            raise RemoteUnavailable("hubspot_unreachable") from exc
        except Exception as exc:
            if not is_api_error(exc):
                raise
            status = int(getattr(exc, "status", 0) or 0)
            body = _body(exc)
            if status == 429 and body.get("policyName") != "DAILY" and attempt < MAX_429_RETRIES:
                window = (
                    _header(exc.headers, "X-HubSpot-RateLimit-Interval-Milliseconds")  # type: ignore[attr-defined]
                    or 10_000
                ) / 1000.0
                clock.sleep(min(window, 0.5 * 2**attempt) * (0.5 + jitter() / 2))
                continue
            if status == 429 or status >= 500 or status == 0:
                raise RemoteUnavailable(f"hubspot_{status or 'error'}") from None
            raise HubSpotRejected(
                status, str(body.get("category") or ""), str(body.get("message") or "")
            ) from None
        _pace(headers, clock)
        return Reply(data, status, headers)
    raise AssertionError("unreachable")  # pragma: no cover
