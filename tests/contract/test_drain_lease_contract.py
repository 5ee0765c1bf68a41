"""One drainer per portal, on every Store backend (SQLite, Firestore on the emulator): the lease
itself, and rows 19 and 48 — 20 drainer workers on one portal, each an instance of its own
(its own store client and its own in-process budget), never exceed the portal's budget."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared import projects
from shared.clock import FakeClock, SystemClock
from shared.crypto.envelope import Envelope
from shared.crypto.local_keys import LocalKeyFile
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.drain.lease import Leases
from shared.hubspot.calls import Pacer
from shared.hubspot.gateway import HubSpotGateway
from shared.store.base import Store
from shared.stripe_gateway import StripeGateway
from tests.contract.backends import race


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def leases(store: Store, clock: FakeClock) -> Leases:
    return Leases(store, clock, seconds=60)


def test_one_holder_at_a_time(leases: Leases) -> None:
    first = leases.acquire("portal:1", "a")
    assert first is not None and not first.recovering
    assert leases.acquire("portal:1", "b") is None
    assert leases.held("portal:1")
    assert leases.acquire("portal:2", "b") is not None  # another portal is another lease


def test_a_released_lease_hands_its_calls_over(leases: Leases) -> None:
    first = leases.acquire("portal:1", "a")
    assert first is not None
    leases.release(first, [1.5, 2.5])
    assert not leases.held("portal:1")
    second = leases.acquire("portal:1", "b")
    assert second is not None
    assert (second.calls, second.recovering) == ([1.5, 2.5], False)


def test_a_holder_that_died_is_taken_over_after_expiry(leases: Leases, clock: FakeClock) -> None:
    assert leases.acquire("portal:1", "a") is not None
    clock.advance(59)
    assert leases.acquire("portal:1", "b") is None
    clock.advance(2)
    taken = leases.acquire("portal:1", "b")
    assert taken is not None and taken.recovering  # "a" never said it stopped cleanly


def test_a_holder_that_failed_halfway_says_so(leases: Leases) -> None:
    first = leases.acquire("portal:1", "a")
    assert first is not None
    leases.release(first, [], clean=False)
    second = leases.acquire("portal:1", "b")
    assert second is not None and second.recovering


def test_renew_extends_only_ones_own_lease(leases: Leases, clock: FakeClock) -> None:
    mine = leases.acquire("portal:1", "a")
    assert mine is not None
    clock.advance(50)
    assert leases.renew(mine, [3.0])
    clock.advance(50)
    assert leases.acquire("portal:1", "b") is None  # renewed: still held at 100 s
    clock.advance(11)
    theirs = leases.acquire("portal:1", "b")
    assert theirs is not None and theirs.calls == [3.0]
    assert not leases.renew(mine, [])
    assert mine.lost.is_set()
    with pytest.raises(Exception, match="drain_lease_lost"):
        mine.check()


def test_racing_instances_one_wins(stores: Callable[[], Store]) -> None:
    pool = [Leases(stores(), FakeClock()), Leases(stores(), FakeClock())]
    won = race(4, lambda i: pool[i % 2].acquire("portal:1", f"owner{i}"))
    assert len([lease for lease in won if lease is not None]) == 1


def test_renewing_keeps_a_long_drain_its_lease(store: Store) -> None:
    leases = Leases(store, SystemClock(), seconds=0.6)
    lease = leases.acquire("portal:1", "a")
    assert lease is not None
    with leases.renewing(lease, lambda: []):
        time.sleep(1.5)
        assert leases.acquire("portal:1", "b") is None
        assert not lease.lost.is_set()


# -- rows 19 and 48 -------------------------------------------------------------------------

CALLS, WINDOW = 4, 2.0  # a small budget, so that a short test spends it many times over
WORKERS = 20


def test_twenty_drainer_workers_on_one_portal_never_exceed_its_budget(
    stores: Callable[[], Store], tmp_path: Any
) -> None:
    with (
        StripeDouble(platform_key="sk_test_budget") as stripe,
        HubSpotDouble(rate_limit=100_000) as hubspot,
    ):
        account = stripe.add_account()
        portal, token = hubspot.add_portal()
        HubSpotGateway(token, SystemClock(), hubspot.base_url).ensure_schema()
        first = stores()
        envelope = Envelope(LocalKeyFile(tmp_path / "master.key"))
        owner = projects.create_account(first, "budget@omniroo.test", time.time())
        project_id = projects.create_project(
            first,
            envelope,
            projects.NewProject(owner, account, False, token, str(portal)),
            time.time(),
        )
        customers = [
            stripe.create_customer(account, email=f"b{i}@budget.example")["id"] for i in range(60)
        ]
        hubspot.set_rate_limit(CALLS, int(WINDOW * 1000))
        hubspot.reset_requests()

        def instance() -> drainer.DrainDeps:
            clock = SystemClock()

            def gateway(access: str, pacer: Pacer) -> HubSpotGateway:
                return HubSpotGateway(access, clock, hubspot.base_url, pacer=pacer, retries=2)

            return drainer.DrainDeps(
                stores(),
                envelope,
                StripeGateway("sk_test_budget", stripe.base_url),
                gateway,
                clock,
                calls_per_window=CALLS,
                window=WINDOW,
                round_limit=4,  # many small rounds: many calls to pace
            )

        workers = [instance() for _ in range(WORKERS)]
        keys = DirtyKeys(first, SystemClock())
        stop = threading.Event()

        def mark_slowly() -> None:
            for start in range(0, len(customers), 6):
                batch = customers[start : start + 6]
                keys.mark_many([Mark(Key(project_id, "customer", c)) for c in batch])
                time.sleep(0.3)
            stop.set()

        def work(i: int) -> int:
            rounds = 0
            while not stop.is_set() or keys.take([project_id], 1):
                rounds += drainer.drain(project_id, workers[i]).rounds
                time.sleep(0.01)
            return rounds

        marker = threading.Thread(target=mark_slowly)
        marker.start()
        rounds = race(WORKERS, work)
        marker.join()
    crm = [r for r in hubspot.requests if r["path"].startswith("/crm/")]
    assert sum(rounds) >= len(customers) / 4
    assert [r for r in crm if r["status"] == 429] == []
    times = sorted(r["at"] for r in crm)
    assert len(times) >= 3 * CALLS  # the budget was spent several times over
    for i, at in enumerate(times):
        assert len([t for t in times[i:] if t < at + WINDOW]) <= CALLS
    contacts = [r for r in hubspot.records(portal, "contacts") if not r["archived"]]
    assert len(contacts) == len(customers)
