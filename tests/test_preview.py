"""Preview: what a backfill would do in HubSpot, read from Stripe and HubSpot, writing nothing."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.clock import FakeClock
from shared.errors import BadRequest, NotFound
from shared.repair import preview
from shared.store.base import COLLECTIONS
from tests.repair_fixtures import PROJECT, Repo, make_repo


@pytest.fixture
def repo(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double, hubspot_double)
    yield made
    made.store.close()


def _stored(repo: Repo) -> dict[str, int]:
    return {name: len(list(repo.store.scan(name))) for name in COLLECTIONS}


def test_contacts_are_created_adopted_updated_or_in_conflict(repo: Repo) -> None:
    fresh = repo.customers(3, prefix="new")
    adopt = repo.stripe.create_customer(repo.account, email="Known@Example.com")["id"]
    clash = repo.stripe.create_customer(repo.account, email="owned@example.com")["id"]
    twin_a = repo.stripe.create_customer(repo.account, email="twin@example.com")["id"]
    twin_b = repo.stripe.create_customer(repo.account, email="twin@example.com")["id"]
    synced = repo.stripe.create_customer(repo.account, email="synced@example.com")["id"]
    repo.stripe.create_customer(repo.account)  # no email: synced by its Stripe id alone
    repo.hubspot_contact("known@example.com", firstname="Hand made")
    repo.hubspot_contact("owned@example.com", stripe_customer_id="cus_someone_else")
    repo.hubspot_contact("synced@example.com", stripe_customer_id=synced)
    before_requests = len([r for r in repo.hubspot.requests if r["method"] != "GET"])  # type: ignore[union-attr]
    before = _stored(repo)
    seen: list[int] = []
    result = preview.run(repo.deps(), PROJECT, ["customers"], on_page=seen.append)
    assert result.objects == {"customers": 9}
    assert result.records["contacts"] == {
        "created": 3 + 1 + 1,  # the fresh ones, one of the twins, the one without email
        "adopted": 1,
        "updated": 1,
        "conflicts": 2,  # owned by another customer's contact, and the second twin
    }
    assert seen == [9]
    assert (result.search_calls, result.skipped, result.failed) == (0, {}, {})
    assert result.hubspot_calls == 2  # one batch read by Stripe id, one by email
    assert _stored(repo) == before  # nothing written to the store...
    writes = [r for r in repo.hubspot.requests if r["method"] != "GET"]  # type: ignore[union-attr]
    assert all(r["path"].endswith("/batch/read") for r in writes[before_requests:])  # ...or HubSpot
    assert fresh and adopt and clash and twin_a and twin_b


def test_deals_line_items_and_products_are_counted_by_their_stripe_ids(repo: Repo) -> None:
    customers = repo.customers(4)
    subs = repo.subscribe(customers[:3])
    repo.stripe.create_invoice(
        repo.account, customers[3], items=[{"amount": 900, "currency": "usd"}]
    )
    result = preview.run(
        repo.deps(), PROJECT, ["customers", "subscriptions", "invoices", "products"]
    )
    # the subscriptions' keys cover their customers and invoices: what is left is the customer
    # without one and its one-off invoice
    assert result.objects == {"products": 1, "subscriptions": 3, "customers": 1, "invoices": 1}
    assert result.count("contacts", "created") == 4
    assert result.count("deals", "created") == 3 + 1  # three subscriptions, one one-off invoice
    assert result.count("line_items", "created") == 3 + 1
    assert result.count("products", "created") == 1  # one price
    assert len(subs) == 3


def test_records_already_in_hubspot_count_as_updated(repo: Repo) -> None:
    [customer] = repo.customers(1)
    repo.hubspot_contact("c0@example.com", stripe_customer_id=customer)
    result = preview.run(repo.deps(), PROJECT, ["customers"])
    assert result.records["contacts"] == {"updated": 1}


def test_skipped_and_failed_keys_are_counted_by_reason(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> None:
    repo = make_repo(tmp_path, stripe_double, hubspot_double, {"customers_without_email": "skip"})
    repo.stripe.create_customer(repo.account)
    repo.customers(1)
    result = preview.run(repo.deps(), PROJECT, ["customers"])
    assert result.skipped == {"customer_without_email": 1}
    assert result.records["contacts"] == {"created": 1}
    repo.store.close()


def test_refuses_unknown_kinds_and_projects(repo: Repo) -> None:
    with pytest.raises(BadRequest):
        preview.run(repo.deps(), PROJECT, ["emails"])
    with pytest.raises(NotFound):
        preview.run(repo.deps(), "prj_nope", ["customers"])


def test_reads_stay_within_half_the_portal_budget(
    tmp_path: Path, stripe_double: StripeDouble
) -> None:
    clock = FakeClock()
    with HubSpotDouble(clock=clock.now, wall_clock=clock.now) as hubspot:
        repo = make_repo(tmp_path, stripe_double, hubspot)
        repo.clock = clock
        repo.customers(350)
        hubspot.set_rate_limit(10)  # from now on: set-up calls above went unpaced
        hubspot.reset_requests()
        deps = repo.deps()
        deps.calls_per_window = 10
        result = preview.run(deps, PROJECT, ["customers"])
        assert result.records["contacts"] == {"created": 350}
        statuses = [r["status"] for r in hubspot.requests]
        assert statuses and 429 not in statuses
        times = [r["at"] for r in hubspot.requests]
        # never more than 5 (half of 10) calls in any ten seconds of the double's clock
        assert max(sum(1 for t in times if s <= t < s + 10) for s in times) <= 5
        repo.store.close()
