"""Pacing by HubSpot's rate-limit headers and the error translation of ``calls.call`` (row 18)."""

import json
from typing import Any

import pytest
import urllib3

from shared.clock import FakeClock
from shared.errors import RemoteUnavailable
from shared.hubspot.calls import MAX_429_RETRIES, HubSpotRejected, call


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.status, self.body, self.headers = status, json.dumps(body).encode(), headers


def headers(remaining: int, limit: int = 100) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Max": str(limit),
        "X-HubSpot-RateLimit-Remaining": str(remaining),
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }


def run(replies: list[Any], clock: FakeClock) -> Any:
    def fn() -> Any:
        reply = replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    return call(fn, clock, lambda exc: isinstance(exc, ApiError), jitter=lambda: 1.0)


RATE_LIMITED = ApiError(
    429, {"policyName": "TEN_SECONDLY_ROLLING", "errorType": "RATE_LIMIT"}, headers(0)
)


def test_plenty_of_budget_means_no_wait() -> None:
    clock = FakeClock()
    assert run([("data", 200, headers(80))], clock).data == "data"
    assert clock.sleeps == []


def test_a_nearly_spent_window_spreads_the_next_calls() -> None:
    clock = FakeClock()
    run([("data", 200, headers(5))], clock)
    assert clock.sleeps == [pytest.approx(0.1)]  # 10 s window / 100 calls


def test_429_backs_off_exponentially_then_succeeds() -> None:
    clock = FakeClock()
    reply = run([RATE_LIMITED, RATE_LIMITED, RATE_LIMITED, ("ok", 200, headers(50))], clock)
    assert reply.data == "ok"
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_429_beyond_the_retry_budget_asks_for_redelivery() -> None:
    clock = FakeClock()
    with pytest.raises(RemoteUnavailable):
        run([RATE_LIMITED] * (MAX_429_RETRIES + 1), clock)
    assert len(clock.sleeps) == MAX_429_RETRIES


def test_daily_limit_is_not_slept_on() -> None:
    clock = FakeClock()
    daily = ApiError(429, {"policyName": "DAILY"}, {})
    with pytest.raises(RemoteUnavailable):
        run([daily], clock)
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status: int) -> None:
    with pytest.raises(RemoteUnavailable):
        run([ApiError(status, {}, {})], FakeClock())


def test_network_errors_are_transient() -> None:
    with pytest.raises(RemoteUnavailable):
        run([urllib3.exceptions.ReadTimeoutError(None, "/", "timed out")], FakeClock())


def test_client_errors_are_permanent_with_a_code_and_no_message_in_it() -> None:
    error = ApiError(400, {"category": "VALIDATION_ERROR", "message": "ada@example.com bad"}, {})
    with pytest.raises(HubSpotRejected) as caught:
        run([error], FakeClock())
    assert caught.value.code == "hubspot_validation_error"
    assert "ada@example.com" not in caught.value.code
    assert caught.value.status == 400


def test_other_exceptions_pass_through() -> None:
    with pytest.raises(KeyError):
        run([KeyError("bug")], FakeClock())


class RecordingPacer:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def before(self, kind: str = "crm") -> None:
        self.log.append(("before", kind))

    def after(self, headers: Any) -> None:
        self.log.append(("after", dict(headers or {})))

    def refused(self, seconds: float) -> None:
        self.log.append(("refused", seconds))


def run_paced(replies: list[Any], clock: FakeClock, pacer: Any, retries: int = 0) -> Any:
    def fn() -> Any:
        reply = replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    is_api = lambda exc: isinstance(exc, ApiError)  # noqa: E731
    return call(fn, clock, is_api, jitter=lambda: 1.0, pacer=pacer, retries=retries)


def test_a_pacer_is_asked_before_every_attempt_and_told_of_429s() -> None:
    clock, pacer = FakeClock(), RecordingPacer()
    run_paced([RATE_LIMITED, ("ok", 200, headers(50))], clock, pacer)
    assert [entry[0] for entry in pacer.log] == ["before", "refused", "before", "after"]
    assert pacer.log[1] == ("refused", 0.5)
    assert clock.sleeps == []  # the pacer holds the wait, for every caller of the portal


def test_the_daily_limit_is_its_own_error() -> None:
    from shared.hubspot.calls import DailyLimitReached

    with pytest.raises(DailyLimitReached):
        run_paced([ApiError(429, {"policyName": "DAILY"}, {})], FakeClock(), RecordingPacer())


@pytest.mark.parametrize(
    "failure", [ApiError(503, {}, {}), urllib3.exceptions.ReadTimeoutError(None, "/", "slow")]
)
def test_retries_after_a_5xx_or_a_timeout_with_growing_waits(failure: Exception) -> None:
    clock = FakeClock()
    reply = run_paced([failure, failure, ("ok", 200, headers(50))], clock, None, retries=2)
    assert reply.data == "ok"
    assert clock.sleeps == [0.5, 1.0]


def test_retries_run_out() -> None:
    clock = FakeClock()
    with pytest.raises(RemoteUnavailable):
        run_paced([ApiError(500, {}, {})] * 3, clock, None, retries=2)
    assert len(clock.sleeps) == 2
