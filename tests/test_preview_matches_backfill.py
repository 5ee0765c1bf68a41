"""The preview's counts equal what the backfill then does in HubSpot through the drainer:
contacts created, adopted by email and refused for an email another customer's contact holds;
deals, line items, products."""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.repair import backfill, preview
from shared.repair.backfill import BackfillDeps
from tests.repair_fixtures import PROJECT, Repo, make_repo

TYPES = ("contacts", "deals", "line_items", "products")


@pytest.fixture
def hubspot_double() -> Iterator[HubSpotDouble]:
    # The test clock sleeps without waiting: a rate limit would only make its 429s come back.
    with HubSpotDouble(rate_limit=100_000) as double:
        yield double


@pytest.fixture
def repo(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double, hubspot_double)
    made.clock.t = time.time()
    yield made
    made.store.close()


def records(repo: Repo) -> dict[str, dict[str, dict[str, Any]]]:
    assert repo.hubspot is not None
    return {
        t: {
            r["id"]: r["properties"]
            for r in repo.hubspot.records(repo.portal_id, t)
            if not r["archived"]
        }
        for t in TYPES
    }


def test_the_preview_counts_what_the_backfill_then_does(repo: Repo) -> None:
    fresh = repo.customers(6, prefix="fresh")
    repo.subscribe(fresh[:4])
    adopted = repo.stripe.create_customer(repo.account, email="known@example.com")["id"]
    refused = repo.stripe.create_customer(repo.account, email="owned@example.com")["id"]
    twins = [
        repo.stripe.create_customer(repo.account, email="twin@example.com")["id"] for _ in range(2)
    ]
    repo.stripe.create_customer(repo.account)  # no email
    repo.stripe.create_invoice(repo.account, fresh[5], items=[{"amount": 900, "currency": "usd"}])
    repo.hubspot_contact("known@example.com", firstname="Hand made")
    repo.hubspot_contact("owned@example.com", stripe_customer_id="cus_someone_else")
    kinds = ["customers", "subscriptions", "invoices", "products"]
    before = records(repo)
    seen = preview.run(repo.deps(), PROJECT, kinds)
    assert records(repo) == before  # the preview wrote nothing

    backfill.start(repo.store, repo.clock, PROJECT, kinds, estimate=seen.objects)
    done = backfill.step(BackfillDeps(repo.store, repo.gateway, repo.clock), PROJECT, 10**12)
    assert dict(done.done) == dict(seen.objects)  # the estimate was exact
    report = repo.drain()  # issue 10's drainer: batches, one lease, one budget
    failed = {
        code: n
        for code, n in Counter(
            str(doc["error_code"])
            for _, doc in repo.store.scan("outcomes")
            if doc["status"] == "failed"
        ).items()
    }
    after = records(repo)

    new = {t: set(after[t]) - set(before[t]) for t in TYPES}
    took_over = {
        i
        for i in before["contacts"]
        if not before["contacts"][i].get("stripe_customer_id")
        and after["contacts"][i].get("stripe_customer_id")
    }
    synced = {p.get("stripe_customer_id") for p in after["contacts"].values()}
    assert seen.count("contacts", "created") == len(new["contacts"]) == 6 + 1 + 1
    assert seen.count("contacts", "adopted") == len(took_over) == 1
    assert seen.count("contacts", "conflicts") == 2
    assert refused not in synced and len({*twins} & synced) == 1  # the two that were refused
    # each refused customer fails its own key, and its subscription's key when it has one
    assert failed == {"email_in_use": 2}
    assert report.settled["failed"] == 2
    for object_type in ("deals", "line_items", "products"):
        assert seen.count(object_type, "created") == len(new[object_type]), object_type
    assert (len(new["deals"]), len(new["line_items"]), len(new["products"])) == (5, 5, 1)
    assert adopted in synced
