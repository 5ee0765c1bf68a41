"""Backfill: every existing Stripe object of the chosen kinds becomes a dirty key, page by page,
with a cursor that survives interruption, progress, cancel, a lease, and pacing by the drainer."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.stripe import StripeDouble
from shared.drain.dirty import DirtyKeys, Key
from shared.errors import BadRequest, NotFound
from shared.repair import backfill, health
from shared.repair.backfill import BackfillDeps, Busy
from tests.repair_fixtures import PROJECT, Repo, make_repo

FAR = 10**12  # a deadline never reached


@pytest.fixture
def repo(tmp_path: Path, stripe_double: StripeDouble) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double)
    yield made
    made.store.close()


def deps(repo: Repo, **kwargs: object) -> BackfillDeps:
    return BackfillDeps(repo.store, repo.gateway, repo.clock, **kwargs)  # type: ignore[arg-type]


def test_every_subscription_and_uncovered_customer_is_marked_across_pages(repo: Repo) -> None:
    customers = repo.customers(230)
    subs = repo.subscribe(customers[:120])
    started = backfill.start(repo.store, repo.clock, PROJECT, ["customers", "subscriptions"])
    assert (started.status, started.kinds, started.current) == (
        "running",
        ("subscriptions", "customers"),
        "subscriptions",
    )
    calls_before = repo.gateway.calls
    done = backfill.step(deps(repo), PROJECT, FAR)
    assert done.status == "done"
    # a customer with a subscription is written through its subscription's key: not marked
    assert dict(done.done) == {"subscriptions": 120, "customers": 110}
    assert (done.estimate, done.estimate_exact, done.marked) == (230, True, 230)
    assert repo.gateway.calls - calls_before == 2 + 3  # 100 a page
    assert repo.dirty() == {Key(PROJECT, "customer", c) for c in customers[120:]} | {
        Key(PROJECT, "subscription", s) for s in subs
    }
    [run] = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).runs
    assert (run.run_id, run.kind, run.status) == (done.run_id, "backfill", "done")
    assert dict(run.counts) == {"subscriptions": 120, "customers": 110}


def test_a_customer_whose_subscriptions_all_ended_keeps_its_own_key(repo: Repo) -> None:
    customers = repo.customers(2)
    [ended, current] = repo.subscribe(customers)
    repo.stripe.cancel_subscription(repo.account, ended)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers", "subscriptions"])
    backfill.step(deps(repo), PROJECT, FAR)
    assert repo.dirty() == {
        Key(PROJECT, "subscription", ended),
        Key(PROJECT, "subscription", current),
        Key(PROJECT, "customer", customers[0]),
    }


def test_a_deadline_stops_between_pages_and_the_next_step_goes_on(repo: Repo) -> None:
    customers = repo.customers(250)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])

    class Ticking:
        """Each read of the time moves it on, so a deadline falls after a page or two."""

        def __init__(self, inner: object) -> None:
            self.inner = inner

        def now(self) -> float:
            repo.clock.advance(1)
            return repo.clock.now()

        def sleep(self, seconds: float) -> None:
            repo.clock.sleep(seconds)

    first = backfill.step(
        BackfillDeps(repo.store, repo.gateway, Ticking(repo.clock)), PROJECT, repo.clock.now() + 4
    )
    assert first.status == "running"
    assert 0 < first.marked < 250
    assert first.estimate == first.marked + 100  # no totals from Stripe: one more page at least
    assert not first.estimate_exact
    last = backfill.step(deps(repo), PROJECT, FAR)
    assert (last.status, last.marked) == ("done", 250)
    assert repo.dirty() == {Key(PROJECT, "customer", c) for c in customers}


def test_a_deleted_cursor_object_steps_back_along_the_trail(repo: Repo) -> None:
    customers = repo.customers(250)  # listed newest first: customers[249] ... customers[0]
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    doc = repo.store.get(backfill.COLLECTION, PROJECT)
    assert doc is not None
    # as if a step had committed the first two pages, and then both cursors' customers went
    repo.store.put(
        backfill.COLLECTION,
        PROJECT,
        {**doc, "trail": [customers[150], customers[50]], "done": {"customers": 200}},
    )
    repo.stripe.delete_customer(repo.account, customers[50])
    done = backfill.step(deps(repo), PROJECT, FAR)
    assert done.status == "done"
    # resumed after customers[150]: the 100 before it are marked again, the rest once
    assert repo.dirty() == {
        Key(PROJECT, "customer", c) for c in customers[:150] if c != customers[50]
    }


def test_invoices_mark_one_off_invoices_and_the_subscription_of_the_others(repo: Repo) -> None:
    [customer] = repo.customers(1)
    [sub] = repo.subscribe([customer])
    one_off = repo.stripe.create_invoice(
        repo.account, customer, items=[{"amount": 900, "currency": "usd"}]
    )["id"]
    backfill.start(repo.store, repo.clock, PROJECT, ["invoices"])
    assert backfill.step(deps(repo), PROJECT, FAR).status == "done"
    assert repo.dirty() == {Key(PROJECT, "invoice", one_off), Key(PROJECT, "subscription", sub)}
    # with the subscriptions walked too, only the one-off invoice is the invoices' own
    backfill.start(repo.store, repo.clock, PROJECT, ["invoices", "subscriptions"])
    assert dict(backfill.step(deps(repo), PROJECT, FAR).done) == {
        "subscriptions": 1,
        "invoices": 1,
    }


def test_cancel_stops_the_walk_and_keeps_what_was_marked(repo: Repo) -> None:
    repo.customers(150)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    cancelled = backfill.cancel(repo.store, repo.clock, PROJECT)
    assert (cancelled.status, cancelled.current, cancelled.finished) == ("cancelled", "", True)
    assert backfill.step(deps(repo), PROJECT, FAR).marked == 0
    assert repo.dirty() == set()
    again = backfill.cancel(repo.store, repo.clock, PROJECT)  # cancelling twice is harmless
    assert (again.status, again.finished_at) == ("cancelled", cancelled.finished_at)
    with pytest.raises(NotFound):
        backfill.cancel(repo.store, repo.clock, "prj_never_backfilled")
    [run] = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).runs
    assert run.status == "cancelled"


def test_one_backfill_at_a_time_per_project_and_a_new_one_after_it_ends(repo: Repo) -> None:
    first = backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    with pytest.raises(Busy):
        backfill.start(repo.store, repo.clock, PROJECT, ["products"])
    backfill.cancel(repo.store, repo.clock, PROJECT)
    second = backfill.start(repo.store, repo.clock, PROJECT, ["products"])
    assert second.run_id != first.run_id
    backfill.cancel(repo.store, repo.clock, PROJECT)
    with pytest.raises(BadRequest, match="unknown kind"):
        backfill.start(repo.store, repo.clock, PROJECT, ["emails"])
    with pytest.raises(BadRequest, match="choose at least one"):
        backfill.start(repo.store, repo.clock, PROJECT, [])
    with pytest.raises(NotFound):
        backfill.start(repo.store, repo.clock, "prj_missing", ["customers"])


def test_a_step_leaves_a_backfill_leased_by_another_invocation_alone(repo: Repo) -> None:
    repo.customers(5)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    holder = deps(repo)
    assert backfill._lease(holder, PROJECT) is not None
    other = backfill.step(deps(repo), PROJECT, FAR)
    assert (other.status, other.marked) == ("running", 0)
    repo.clock.advance(backfill.LEASE_SECONDS + 1)  # the holder died: its lease runs out
    assert backfill.step(deps(repo), PROJECT, FAR).status == "done"


def test_no_more_marks_while_the_drainer_is_behind(repo: Repo) -> None:
    repo.customers(5)
    keys = DirtyKeys(repo.store, repo.clock)
    keys.mark(Key(PROJECT, "customer", "cus_waiting"))
    repo.clock.advance(backfill.LAG + 1)  # that key has waited longer than the lag
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    paused = backfill.step(deps(repo), PROJECT, repo.clock.now() + 10)
    assert (paused.status, paused.marked) == ("running", 0)
    assert repo.clock.sleeps and sum(repo.clock.sleeps) == pytest.approx(10)
    keys.clear(keys.take([PROJECT], 10))  # the drainer caught up
    assert backfill.step(deps(repo), PROJECT, FAR).marked == 5


def test_a_revoked_stripe_account_fails_the_backfill_with_its_code(repo: Repo) -> None:
    repo.store.put(
        "projects",
        PROJECT,
        {**(repo.store.get("projects", PROJECT) or {}), "stripe_account": "acct_gone"},
    )
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    failed = backfill.step(deps(repo), PROJECT, FAR)
    assert (failed.status, failed.error_code) == ("failed", "stripe_account_access")
    assert backfill.progress(repo.store, PROJECT) == failed


def test_an_estimate_makes_progress_exact_from_the_start(repo: Repo) -> None:
    repo.customers(3)
    started = backfill.start(
        repo.store, repo.clock, PROJECT, ["customers"], estimate={"customers": 3}
    )
    assert (started.estimate, started.estimate_exact, started.marked) == (3, True, 0)
    assert backfill.step(deps(repo), PROJECT, FAR).marked == 3


def test_wake_is_asked_for_new_keys_only_and_its_failure_costs_nothing(repo: Repo) -> None:
    repo.customers(3)
    woken: list[str] = []

    def wake(project_id: str) -> None:
        woken.append(project_id)
        raise RuntimeError("queue down")

    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    assert backfill.step(deps(repo, wake=wake), PROJECT, FAR).marked == 3
    assert woken == [PROJECT]
