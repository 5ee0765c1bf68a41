"""Sign-in throttling on the real SQLite store and a fake clock: RELIABILITY row 36 (100+ failures
per account, password spraying, no lockout of the owner), without bcrypt: the throttle decides
before any password is checked.
"""

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.accounts.throttle import (
    CLIENT,
    COLLECTION,
    EMAIL,
    PAIR,
    Throttle,
    Throttled,
    client_key,
)
from shared.clock import FakeClock
from shared.store.base import FIELDS
from shared.store.sqlite import SqliteStore

OWNER = "owner@omniroo.test"
ATTACKER = "203.0.113.66"
HOME = "198.51.100.7"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(store: SqliteStore, clock: FakeClock) -> Throttle:
    return Throttle(store, clock)


def fail(throttle: Throttle, email: str = OWNER, client: str = ATTACKER) -> None:
    throttle.admit(email, client).failed()


def waits_of(throttle: Throttle, clock: FakeClock, failures: int, **who: str) -> list[int]:
    """Fail ``failures`` times as fast as allowed; the waits imposed along the way."""
    waits = []
    done = 0
    while done < failures:
        try:
            fail(throttle, **who)
            done += 1
        except Throttled as refused:
            waits.append(refused.retry_after)
            clock.advance(refused.retry_after)
    return waits


class TestOneAddress:
    def test_five_free_failures_then_waits_double_up_to_15_minutes(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        waits = waits_of(throttle, clock, 20)
        assert waits[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        assert set(waits[10:]) == {900}
        assert PAIR.free == 5 and PAIR.cap == 900

    def test_refusal_is_generic_and_says_when(self, throttle: Throttle, clock: FakeClock) -> None:
        # The throttle knows emails, not accounts: an unknown email is told exactly the same.
        for email, client in ((OWNER, ATTACKER), ("nobody@omniroo.test", "192.0.2.99")):
            assert waits_of(throttle, clock, 6, email=email, client=client) == []
            with pytest.raises(Throttled) as refused:
                fail(throttle, email=email, client=client)
            assert str(refused.value) == "Too many sign-in attempts. Try again in 1 second."
            assert refused.value.status == 429 and refused.value.retry_after == 1
            clock.advance(1)
            fail(throttle, email=email, client=client)
            with pytest.raises(Throttled, match="Try again in 2 seconds"):
                fail(throttle, email=email, client=client)

    def test_a_refused_attempt_is_not_counted(
        self, throttle: Throttle, store: SqliteStore, clock: FakeClock
    ) -> None:
        waits_of(throttle, clock, 6)
        before = dict(store.scan(COLLECTION))
        for _ in range(50):
            with pytest.raises(Throttled):
                fail(throttle)
        assert dict(store.scan(COLLECTION)) == before

    def test_hundred_failures_slow_the_attacker_and_leave_the_owner_in(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        start = clock.now()
        waits = waits_of(throttle, clock, 105)
        assert waits[-1] == 900
        assert clock.now() - start > 80 * 900  # ~20 hours for 105 guesses
        with pytest.raises(Throttled):
            fail(throttle)
        # The owner, from any other address, at once: the attacker filled only its own counters.
        throttle.admit(OWNER, HOME).succeeded()

    def test_failures_are_forgotten_after_a_day(self, throttle: Throttle, clock: FakeClock) -> None:
        waits_of(throttle, clock, 8)
        clock.advance(24 * 3600)
        assert waits_of(throttle, clock, 5) == []

    def test_a_success_resets_its_pair(self, throttle: Throttle, clock: FakeClock) -> None:
        waits_of(throttle, clock, 4)
        throttle.admit(OWNER, ATTACKER).succeeded()
        assert waits_of(throttle, clock, 5) == []

    def test_a_success_does_not_reset_the_address(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        # An attacker signing in to an account of their own does not buy more guesses.
        for i in range(CLIENT.free - 1):
            fail(throttle, email=f"victim{i}@omniroo.test")
        throttle.admit("attacker@omniroo.test", ATTACKER).succeeded()
        fail(throttle, email="one.more@omniroo.test")  # the 20th failure, the last free one
        fail(throttle, email="yet.one.more@omniroo.test")  # the 21st sets a wait
        with pytest.raises(Throttled):
            fail(throttle, email="and.another@omniroo.test")


class TestSpray:
    def test_one_password_over_many_emails_from_one_address_is_throttled(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        emails = iter(f"user{i}@omniroo.test" for i in range(1000))
        waits: list[int] = []
        tried = 0
        while tried < 100:
            email = next(emails)
            try:
                fail(throttle, email=email)
                tried += 1
            except Throttled as refused:
                waits.append(refused.retry_after)
                clock.advance(refused.retry_after)
        assert waits[:5] == [1, 2, 4, 8, 16]  # after CLIENT.free = 20 free failures
        assert waits[-1] == 900

    def test_many_addresses_on_one_email_get_at_most_100_tries_an_hour(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        throttle.admit(OWNER, HOME).succeeded()  # the owner's usual address
        admitted = 0
        for second in range(0, 3600, 2):  # a fresh address every 2 seconds
            clock.advance(2)
            try:
                fail(throttle, client=f"10.{second // 256 % 256}.{second % 256}.1")
                admitted += 1
            except Throttled:
                pass
        assert EMAIL.cap == 60
        assert 10 < admitted <= 100  # 75: 10 free, then waits of 1, 2, ... 60 s
        # At home the owner is trusted and not slowed at all; on a new address, at most 60 s.
        throttle.admit(OWNER, HOME).succeeded()
        with pytest.raises(Throttled) as refused:
            throttle.admit(OWNER, "192.0.2.1")
        assert refused.value.retry_after <= 60
        clock.advance(refused.value.retry_after)
        throttle.admit(OWNER, "192.0.2.1").succeeded()


class TestRaces:
    def test_a_burst_gets_no_more_tries_than_a_sequence(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        # Two stores on one file: two connections, so SQLite's own locking arbitrates.
        stores = [SqliteStore(tmp_path / "race.db"), SqliteStore(tmp_path / "race.db")]
        throttles = [Throttle(s, clock) for s in stores]
        results = race(30, lambda i: _try(throttles[i % 2]))
        assert results.count("admitted") == PAIR.free + 1
        for store in stores:
            store.close()


def _try(throttle: Throttle) -> str:
    try:
        fail(throttle)
    except Throttled:
        return "throttled"
    return "admitted"


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


class TestStored:
    def test_counters_hold_no_email_or_address(
        self, throttle: Throttle, store: SqliteStore, clock: FakeClock
    ) -> None:
        waits_of(throttle, clock, 7)
        throttle.admit(OWNER, HOME).succeeded()
        docs = list(store.scan(COLLECTION))
        assert {doc["kind"] for _, doc in docs} == {"pair", "client", "email"}
        for doc_id, doc in docs:
            assert len(doc_id) == 64 and set(doc) <= FIELDS[COLLECTION]
            assert doc["expire_at"] > clock.now()
        dump = json.dumps(docs)
        for value in (OWNER, "owner", ATTACKER, HOME):
            assert value not in dump

    def test_an_ipv6_client_is_its_64(self) -> None:
        assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
        assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
        assert client_key("::ffff:203.0.113.5") == "203.0.113.5"
        assert client_key(" 203.0.113.5 ") == "203.0.113.5"

    def test_sign_up_attempts_count_against_the_address_only(
        self, throttle: Throttle, clock: FakeClock
    ) -> None:
        for _ in range(CLIENT.free + 1):
            throttle.admit_client(ATTACKER).failed()
        with pytest.raises(Throttled):
            throttle.admit_client(ATTACKER)
        throttle.admit_client(HOME).succeeded()
