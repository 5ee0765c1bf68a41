"""A drain round's Stripe snapshot against the Stripe double: the collectors plan exactly what
they plan reading Stripe one object at a time, with far fewer reads, and the rent-or-buy rule
keeps a round's reads within twice the cheaper way."""

import json
from decimal import Decimal
from typing import Any

import pytest

from doubles.stripe import StripeDouble
from shared.drain import reads
from shared.drain.dirty import Key
from shared.drain.snapshot import BULK_MIN, Snapshot
from shared.project_settings import ProjectSettings
from shared.stripe_gateway import StripeGateway
from shared.sync.collect import COLLECTORS, SUBSCRIPTION_EXPAND, Source

KEY = "sk_test_snapshot"
NOW = 1_900_000_000.0


class Account:
    def __init__(self, double: StripeDouble, customers: int) -> None:
        self.double = double
        self.id = double.add_account()
        acct = self.id
        product = double.create_product(acct, "Team plan")["id"]
        monthly = double.create_price(acct, product, 2500, "usd", "month")["id"]
        yearly = double.create_price(acct, product, 24000, "usd", "year", nickname="Yearly")["id"]
        tiered = double.create_price(
            acct,
            product,
            None,
            "usd",
            "month",
            billing_scheme="tiered",
            tiers_mode="graduated",
            tiers=[{"up_to": 5, "unit_amount": 900}, {"up_to": "inf", "unit_amount": 700}],
        )["id"]
        coupon = double.create_coupon(acct, percent_off=10, duration="forever")["id"]
        self.keys: list[Key] = []
        for i in range(customers):
            customer = double.create_customer(acct, email=f"c{i}@snap.example", name=f"C {i}")
            kind = i % 4
            if kind == 3:
                double.create_invoice(
                    acct, customer["id"], items=[{"amount": 4000, "currency": "usd"}]
                )
                continue
            items = [{"price": (monthly, yearly, tiered)[kind], "quantity": 1 + i % 3}]
            sub = double.create_subscription(
                acct, customer["id"], items, coupon=coupon if i % 5 == 0 else None
            )
            if i % 6 == 0:
                double.cancel_subscription(acct, sub["id"])
        charges = double.objects(acct, "charge")
        double.refund_charge(acct, charges[0]["id"], 500)
        for event in double.events(acct):
            obj = event["data"]["object"]
            if event["type"].split(".")[0] in ("customer", "invoice", "charge"):
                kind = obj["object"]
                if kind in ("customer", "subscription", "invoice", "charge"):
                    self.keys.append(Key("prj_1", kind, obj["id"]))
        self.keys = list(dict.fromkeys(self.keys))


@pytest.fixture(scope="module")
def account() -> Any:
    with StripeDouble(platform_key=KEY) as double:
        yield Account(double, customers=24)


def plain(value: Any) -> Any:
    """Objects as JSON: the library's Decimals and the pages' strings compare alike."""
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v))


def plans(stripe: Any, account: Account, keys: list[Key]) -> list[Any]:
    source = Source(stripe, account.id, ProjectSettings(), NOW)
    return [COLLECTORS[key.kind](source, key.object_id) for key in keys]


def test_collectors_plan_the_same_from_pages_as_one_by_one(account: Account) -> None:
    direct = StripeGateway(KEY, account.double.base_url)
    expected = plans(direct, account, account.keys)
    gateway = StripeGateway(KEY, account.double.base_url)
    pages = reads.snapshot(gateway, account.id)
    reads.prime(pages, account.keys, payments=True)
    assert plans(pages, account, account.keys) == expected
    assert gateway.calls < direct.calls / 5  # the pages answered nearly everything
    assert pages.reads == gateway.calls


def test_a_served_subscription_is_what_stripe_answers(account: Account) -> None:
    gateway = StripeGateway(KEY, account.double.base_url)
    pages = reads.snapshot(gateway, account.id)
    subs = [k.object_id for k in account.keys if k.kind == "subscription"]
    pages.prime("subscription", subs, params=reads.SUBSCRIPTIONS)
    for sub in subs:
        assert plain(pages.fetch("subscription", sub, account.id, SUBSCRIPTION_EXPAND)) == plain(
            gateway.fetch("subscription", sub, account.id, SUBSCRIPTION_EXPAND)
        )
        assert plain(pages.fetch("subscription", sub, account.id)) == plain(
            gateway.fetch("subscription", sub, account.id)
        )


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("subscription", {"status": "all", "expand": ["data.discounts"]}),
        ("charge", {}),
        ("invoice", {}),
    ],
)
def test_a_served_customer_list_is_what_stripe_answers(
    account: Account, kind: str, params: dict[str, Any]
) -> None:
    gateway = StripeGateway(KEY, account.double.base_url)
    pages = reads.snapshot(gateway, account.id)
    pages.prime(kind, demand=100, params={"status": "all"} if kind == "subscription" else {})
    before = gateway.calls
    for customer in account.double.objects(account.id, "customer")[:8]:
        asked = {**params, "customer": customer["id"]}
        assert plain(pages.list(kind, account.id, asked)) == plain(
            StripeGateway(KEY, account.double.base_url).list(kind, account.id, asked)
        )
    assert gateway.calls == before  # all from the pages


def test_a_few_objects_are_read_one_by_one(account: Account) -> None:
    gateway = StripeGateway(KEY, account.double.base_url)
    pages = Snapshot(gateway, account.id)
    few = [k.object_id for k in account.keys if k.kind == "invoice"][: BULK_MIN - 1]
    pages.prime("invoice", few)
    assert gateway.calls == 0
    for invoice in few:
        pages.fetch("invoice", invoice, account.id)
        pages.fetch("invoice", invoice, account.id)  # remembered for the round
    assert gateway.calls == len(few)


def test_pages_stop_once_they_cost_what_they_would_save(account: Account) -> None:
    """Rent or buy: wanting 6 objects the first pages do not hold, at most 6 pages are read
    before the rest is read one by one."""
    gateway = StripeGateway(KEY, account.double.base_url)
    pages = Snapshot(gateway, account.id)
    oldest = [c["id"] for c in account.double.objects(account.id, "charge")][:6]
    listing: dict[str, Any] = {"limit": 3}  # small pages, so the account spans many
    pages.prime("charge", oldest, params=listing)
    assert gateway.calls <= 6
    for charge in oldest:
        assert pages.fetch("charge", charge, account.id)["id"] == charge


def test_a_snapshot_serves_one_account_only(account: Account) -> None:
    pages = Snapshot(StripeGateway(KEY, account.double.base_url), account.id)
    with pytest.raises(ValueError):
        pages.fetch("customer", "cus_1", "acct_other")


@pytest.fixture(scope="module")
def aged() -> Any:
    """250 customers made a minute apart, each with a monthly subscription (and its invoice and
    charge): three list pages of each kind, the newest customers on the first."""
    with StripeDouble(platform_key=KEY) as double:
        acct = double.add_account()
        product = double.create_product(acct, "Team plan")["id"]
        price = double.create_price(acct, product, 2500, "usd", "month")["id"]
        made = []
        for i in range(250):
            customer = double.create_customer(acct, email=f"a{i}@snap.example", name=f"A {i}")
            made.append(double.create_subscription(acct, customer["id"], [{"price": price}]))
            double.advance(60)
        yield double, acct, made


def listed(double: StripeDouble, path: str) -> int:
    return sum(1 for r in double.requests if r["method"] == "GET" and r["path"] == path)


def test_recent_customers_read_only_the_head_of_their_lists(aged: Any) -> None:
    """Subscriptions and invoices are never older than their customer: for the newest customers
    one page of each list holds all of theirs, and plans are what Stripe one by one gives.
    Charges are read to the end (a charge may be given its customer later)."""
    double, acct, made = aged
    keys = [Key("prj_1", "subscription", sub["id"]) for sub in made[-20:]]
    direct = StripeGateway(KEY, double.base_url)
    source = Source(direct, acct, ProjectSettings(), NOW)
    expected = [COLLECTORS[k.kind](source, k.object_id) for k in keys]
    double.reset_requests()
    gateway = StripeGateway(KEY, double.base_url)
    pages = reads.snapshot(gateway, acct)
    reads.prime(pages, keys, payments=True)
    served = Source(pages, acct, ProjectSettings(), NOW)
    assert [COLLECTORS[k.kind](served, k.object_id) for k in keys] == expected
    assert listed(double, "/v1/subscriptions") == 1
    assert listed(double, "/v1/invoices") == 1
    assert listed(double, "/v1/charges") == 3


def test_a_customer_older_than_the_pages_is_read_from_stripe(aged: Any) -> None:
    double, acct, made = aged
    gateway = StripeGateway(KEY, double.base_url)
    pages = reads.snapshot(gateway, acct)
    reads.prime(pages, [Key("prj_1", "subscription", sub["id"]) for sub in made[-20:]], False)
    oldest = str(made[0]["customer"])
    pages.fetch("customer", oldest, acct)
    asked = {"customer": oldest, "status": "all"}
    before = gateway.calls
    assert plain(pages.list("subscription", acct, asked)) == plain(
        StripeGateway(KEY, double.base_url).list("subscription", acct, asked)
    )
    assert gateway.calls == before + 1  # its subscriptions may lie past the pages: asked for
