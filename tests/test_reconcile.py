"""Reconcile marks what the live stream missed: the objects of events Stripe reports undelivered
(claiming the events as the webhook would) and the objects whose HubSpot records drifted."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.drain.dirty import Key
from shared.hubspot.gateway import HubSpotGateway
from shared.project_settings import ProjectSettings
from shared.repair import drift, health, planning, reconcile, undelivered
from shared.sync.apply import apply
from tests.repair_fixtures import PROJECT, Repo, make_repo


@pytest.fixture
def repo(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double, hubspot_double, {"reconcile_drift": "off"})
    made.clock.t = time.time()  # the double stamps events with the real time
    yield made
    made.store.close()


def _settings(repo: Repo, **settings: object) -> None:
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", PROJECT, {**project, "settings": settings})


def _synced(repo: Repo, keys: list[Key]) -> None:
    """What a drain would have written for these keys, written here (the drainer is issue 10)."""
    hubspot = HubSpotGateway(repo.token, repo.clock, repo.hubspot.base_url)  # type: ignore[union-attr]
    planned = planning.plan(repo.gateway, repo.account, ProjectSettings(), repo.clock.now(), keys)
    for plan in planned.ops.values():
        apply(plan, hubspot)


def test_undelivered_events_are_claimed_and_their_objects_marked(repo: Repo) -> None:
    accepted, lost, also_lost = repo.customers(3)
    accepted_event, lost_event, also_lost_event = (
        e["id"] for e in repo.stripe.events(repo.account)
    )
    repo.stripe.record_delivery(repo.account, accepted_event, 200)
    repo.stripe.update_customer(repo.account, also_lost, name="Renamed")  # two events, one key
    # the webhook took one more event though Stripe still counts it undelivered (a lost 2xx)
    repo.store.put("event_marks", also_lost_event, {"state": "published", "project_id": PROJECT})
    report = reconcile.run(repo.deps(), PROJECT)
    assert report.counts == {"undelivered": 3, "accepted": 2}
    assert repo.dirty() == {Key(PROJECT, "customer", lost), Key(PROJECT, "customer", also_lost)}
    marks = dict(repo.store.scan("event_marks"))
    assert marks[lost_event]["state"] == "published"  # Stripe's own retry is now a duplicate
    repo.clock.advance(60)
    again = reconcile.run(repo.deps(), PROJECT)
    assert again.counts == {"undelivered": 3, "accepted": 0}
    day = health.day(repo.store, PROJECT, health.day_of(repo.clock.now()))
    assert day.counts["received"] == 2
    assert [(r.kind, r.status, r.counts.get("accepted")) for r in day.runs] == [
        ("reconcile", "done", 2),
        ("reconcile", "done", 0),
    ]
    assert accepted


def test_a_first_run_looks_three_days_back_and_only_at_its_mode(repo: Repo) -> None:
    [old] = repo.customers(1, prefix="old")
    repo.stripe.advance(4 * 24 * 3600)
    [new] = repo.customers(1, prefix="new")
    repo.clock.t = repo.stripe.now()
    report = reconcile.run(repo.deps(), PROJECT)
    assert report.counts == {"undelivered": 1, "accepted": 1}
    assert repo.dirty() == {Key(PROJECT, "customer", new)}
    live = {**(repo.store.get("projects", PROJECT) or {}), "livemode": True}
    since = undelivered.since(repo.clock.now(), None)
    assert undelivered.find(repo.gateway, repo.store, repo.clock, PROJECT, live, since).listed == 0
    assert old


def test_after_an_outage_longer_than_stripes_retries_the_run_reaches_back_to_the_last(
    repo: Repo,
) -> None:
    """RELIABILITY row 30, its reconcile half: the endpoint and the scheduler were down for
    five days; the first run after reaches back to the day before the last completed one."""
    reconcile.run(repo.deps(), PROJECT)  # the last run before the outage
    repo.stripe.advance(3600)
    [during] = repo.customers(1, prefix="during")
    repo.stripe.advance(5 * 24 * 3600)
    repo.clock.t = repo.stripe.now()
    report = reconcile.run(repo.deps(), PROJECT)
    assert report.counts == {"undelivered": 1, "accepted": 1}
    assert repo.dirty() == {Key(PROJECT, "customer", during)}


@pytest.mark.parametrize(
    ("last_done_days_ago", "reaches_days"),
    [(None, 3), (1, 3), (5, 6), (40, 30)],
)
def test_how_far_back_a_run_lists(last_done_days_ago: int | None, reaches_days: int) -> None:
    now, day = 1_900_000_000.0, 86_400
    last = None if last_done_days_ago is None else now - last_done_days_ago * day
    assert undelivered.since(now, last) == now - reaches_days * day


def test_drifted_and_missing_records_are_marked_and_matching_ones_are_not(repo: Repo) -> None:
    customers = repo.customers(4)
    subs = repo.subscribe(customers[:2])
    keys = [Key(PROJECT, "customer", c) for c in customers] + [
        Key(PROJECT, "subscription", s) for s in subs
    ]
    _synced(repo, keys)
    hubspot = HubSpotGateway(repo.token, repo.clock, repo.hubspot.base_url)  # type: ignore[union-attr]
    edited = repo.hubspot.record_by(repo.portal_id, "contacts", "stripe_customer_id", customers[3])  # type: ignore[union-attr]
    hubspot.update("contacts", edited["id"], {"firstname": "Edited by hand"})  # type: ignore[index]
    gone = repo.hubspot.record_by(repo.portal_id, "deals", "stripe_subscription_id", subs[1])  # type: ignore[union-attr]
    hubspot.archive("deals", [gone["id"]])  # type: ignore[index]
    for event in repo.stripe.events(repo.account):
        repo.stripe.record_delivery(repo.account, event["id"], 200)
    _settings(repo, reconcile_drift="full")
    report = reconcile.run(repo.deps(), PROJECT)
    assert report.counts == {
        "undelivered": 0,
        "accepted": 0,
        "checked": 2 + 2,  # the subscriptions (with their customers), the customers without
        "differing": 1,
        "missing": 1,
        "failed": 0,
    }
    assert report.wrapped
    assert repo.dirty() == {
        Key(PROJECT, "customer", customers[3]),
        Key(PROJECT, "subscription", subs[1]),
    }


def test_drift_alone_marks_exactly_the_drifted_objects(repo: Repo) -> None:
    customers = repo.customers(3)
    _synced(repo, [Key(PROJECT, "customer", c) for c in customers])
    repo.stripe.update_customer(repo.account, customers[0], phone="+15550100")  # never delivered
    found = drift.check(repo.deps(), PROJECT, repo.store.get("projects", PROJECT) or {}, None)
    assert (found.checked, found.differing, found.missing) == (3, 1, 0)
    assert found.marked == (Key(PROJECT, "customer", customers[0]),)
    assert repo.dirty() == {Key(PROJECT, "customer", customers[0])}


def test_sampled_runs_go_on_where_the_last_stopped_and_wrap(repo: Repo) -> None:
    customers = repo.customers(5)
    _synced(repo, [Key(PROJECT, "customer", c) for c in customers])
    project = repo.store.get("projects", PROJECT) or {}
    checked = [drift.check(repo.deps(), PROJECT, project, 2) for _ in range(4)]
    assert [(c.checked, c.wrapped) for c in checked] == [
        (2, False),
        (2, False),
        (1, True),
        (2, False),
    ]
    assert sum(c.differing + c.missing for c in checked) == 0


def test_a_failing_run_is_recorded_failed(repo: Repo) -> None:
    _settings(repo, reconcile_drift="off")
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", PROJECT, {**project, "stripe_account": "acct_revoked"})
    with pytest.raises(Exception, match="stripe_account_access"):
        reconcile.run(repo.deps(), PROJECT)
    [run] = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).runs
    assert run.status == "failed"


def test_projects_covers_those_connected_on_both_sides(repo: Repo) -> None:
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", "prj_b", {**project, "hubspot_status": "reconnect_needed"})
    repo.store.put("projects", "prj_c", {**project, "closed_at": 1.0})
    assert reconcile.projects(repo.store) == [PROJECT]


@pytest.mark.parametrize(
    ("name", "ours", "theirs", "equal"),
    [
        ("firstname", "Ada", "Ada", True),
        ("firstname", "", None, True),
        ("firstname", "Ada", None, False),
        ("firstname", "Ada", "Bob", False),
        ("email", "Ada@Example.com", "ada@example.com", True),
        ("amount", "15", "15.00", True),
        ("amount", "15", "15.01", False),
        ("closedate", "2026-01-31", "2026-01-31T00:00:00Z", True),
        ("closedate", "2026-01-31", "2026-01-30T00:00:00Z", False),
    ],
)
def test_values_compare_as_hubspot_stores_them(
    name: str, ours: str, theirs: str | None, equal: bool
) -> None:
    assert drift.same(name, ours, theirs) is equal
