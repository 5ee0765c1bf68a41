"""The Stripe double answers in exactly the API version Omniroo pins (RELIABILITY row 46).

A billing history that makes every kind of object the double can return (customers with and
without a discount, subscriptions with forever / repeating / once discounts and an item discount,
tiered prices, a renewal, one-off invoices with a credit note, invoice payments, a captured
authorisation, a refund, disputes won and lost, checkout sessions, events), then every object read
back over HTTP as Stripe's wire sends it, plain and with the expansions Omniroo asks for, and held
to the pinned ``stripe`` library's own types (stripe_types.py, stripe_shapes.py beside this file)
and to Stripe's example objects: no field the version lacks, every field Stripe always sends,
expandable fields ids unless expanded, includable fields only when expanded.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from doubles.stripe import StripeDouble
from doubles.stripe.wire import API_VERSION as DOUBLE_VERSION
from shared.stripe_version import API_VERSION
from shared.sync.reads import SUBSCRIPTION_LIST_EXPAND
from tests.contract.stripe_shapes import check, field_path, missing
from tests.contract.stripe_types import resources

EXAMPLES = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "fixtures3.json").read_text()
)["resources"]
DAY = 86_400


@dataclass
class World:
    double: StripeDouble
    account: str

    def get(self, path: str, expand: tuple[str, ...] = (), **params: Any) -> Any:
        response = requests.get(
            f"{self.double.base_url}{path}",
            params={**params, "expand[]": list(expand)},
            headers={
                "Authorization": f"Bearer {self.double.platform_key}",
                "Stripe-Account": self.account,
                "Stripe-Version": API_VERSION,
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def all(self, path: str, expand: tuple[str, ...] = (), **params: Any) -> list[Any]:
        found: list[Any] = self.get(path, expand, limit=100, **params)["data"]
        return found


def build(double: StripeDouble) -> str:
    """Every kind of object, in the states Omniroo reads them in."""
    s, a = double, double.add_account()
    team = s.create_product(a, "Team plan")["id"]
    monthly = s.create_price(a, team, 2500, "usd", "month")["id"]
    yearly = s.create_price(a, team, 24000, "usd", "year", nickname="Yearly")["id"]
    seats = s.create_price(
        a,
        team,
        None,
        "usd",
        "month",
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=[{"up_to": 5, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 500}],
    )["id"]
    one_time = s.create_price(a, s.create_product(a, "Setup")["id"], 9900, "usd")["id"]
    forever = s.create_coupon(a, percent_off=20, duration="forever")["id"]
    repeating = s.create_coupon(
        a, amount_off=500, currency="usd", duration="repeating", duration_in_months=3
    )["id"]
    once = s.create_coupon(a, percent_off=50, duration="once")["id"]

    ada = s.create_customer(a, email="ada@example.com", name="Ada Lovelace")["id"]
    s.add_customer_discount(a, ada, forever)
    s.create_subscription(a, ada, [{"price": monthly, "quantity": 2}])
    grace = s.create_customer(a, email="grace@example.com", name="Grace Hopper")["id"]
    s.create_subscription(
        a,
        grace,
        [{"price": seats, "quantity": 7, "discounts": [{"coupon": once}]}],
        discounts=[{"coupon": repeating}],
        trial_end=s.now() + 3 * DAY,
    )
    alan = s.create_customer(a, email="alan@example.com")["id"]
    sub = s.create_subscription(a, alan, [{"price": yearly, "quantity": 1}], coupon=forever)
    s.advance(4 * DAY)  # Grace's trial ends: her first paid invoice
    s.cancel_subscription(a, sub["id"], at_period_end=True)

    invoice = s.create_invoice(a, alan, items=[{"price": one_time, "quantity": 1}])
    paid = s.pay_invoice(a, invoice["id"])
    s.create_credit_note(a, paid["id"], amount=1900, refund_amount=1900, reason="order_change")
    open_one = s.finalize_invoice(
        a, s.create_invoice(a, grace, items=[{"amount": 3000, "currency": "usd"}])["id"]
    )
    note = s.create_credit_note(a, open_one["id"], amount=1000)
    s.void_credit_note(a, note["id"])

    held = s.create_charge(a, ada, 4000, capture=False)
    s.capture_charge(a, held["id"], amount=3000)
    charge = s.create_charge(a, grace, 5000)
    s.refund_charge(a, charge["id"], 1000)
    lost = s.dispute_charge(a, charge["id"])
    s.settle_dispute(a, lost["id"], "lost")
    s.dispute_charge(a, s.create_charge(a, alan, 2000)["id"], "product_not_received")
    s.create_charge(a, alan, 700, fail=True)

    session = s.create_checkout_session(
        a,
        mode="subscription",
        success_url="https://example.com/ok",
        line_items=[{"price": monthly, "quantity": 1}],
    )
    s.complete_checkout_session(a, session["id"], email="linus@example.com")
    s.create_checkout_session(
        a,
        mode="payment",
        success_url="https://example.com/ok",
        line_items=[{"price": one_time, "quantity": 1}],
    )
    s.advance(40 * DAY)  # renewals: subscription_cycle invoices, repeating and once discounts end
    return a


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with StripeDouble() as double:
        yield World(double, build(double))


# path -> (the expansions Omniroo's readers ask for on it; an empty tuple reads it plain)
READS = {
    "/v1/customers": [(), ("data.discount.source.coupon",)],
    "/v1/subscriptions": [
        (),
        ("data.discounts.source.coupon", "data.items.data.discounts"),
        ("data.latest_invoice", "data.customer"),
    ],
    "/v1/invoices": [(), ("data.payments",), ("data.discounts.source.coupon",)],
    "/v1/invoice_payments": [(), ("data.payment.charge",)],
    "/v1/charges": [(), ("data.refunds", "data.customer")],
    "/v1/refunds": [(), ("data.charge",)],
    "/v1/disputes": [(), ("data.charge",)],
    "/v1/credit_notes": [(), ("data.invoice",)],
    "/v1/prices": [(), ("data.product", "data.tiers")],
    "/v1/products": [()],
    "/v1/coupons": [()],
    "/v1/checkout/sessions": [(), ("data.line_items",)],
    "/v1/invoiceitems": [()],
    "/v1/events": [()],
}
KINDS = {
    "/v1/customers": "customer",
    "/v1/subscriptions": "subscription",
    "/v1/invoices": "invoice",
    "/v1/invoice_payments": "invoice_payment",
    "/v1/charges": "charge",
    "/v1/refunds": "refund",
    "/v1/disputes": "dispute",
    "/v1/credit_notes": "credit_note",
    "/v1/prices": "price",
    "/v1/products": "product",
    "/v1/coupons": "coupon",
    "/v1/checkout/sessions": "checkout.session",
    "/v1/invoiceitems": "invoiceitem",
    "/v1/events": "event",
}


def test_the_double_speaks_omnirooss_version() -> None:
    assert DOUBLE_VERSION == API_VERSION


@pytest.mark.parametrize(
    ("path", "expand"), [(p, e) for p, expansions in READS.items() for e in expansions]
)
def test_every_listed_object_has_exactly_the_versions_fields(
    world: World, path: str, expand: tuple[str, ...]
) -> None:
    params = {"status": "all"} if path == "/v1/subscriptions" else {}
    objects = world.all(path, expand, **params)
    assert objects, f"the history made no {path}"
    inner = tuple(e.removeprefix("data.") for e in expand)
    problems = [p for obj in objects for p in check(obj, inner, KINDS[path])]
    assert problems == []
    example = EXAMPLES[KINDS[path]]
    assert sorted({m for obj in objects for m in missing(obj, example)}) == []


def test_each_object_read_alone_with_omniroos_expansions_fits_the_version(world: World) -> None:
    subscription = world.all("/v1/subscriptions", status="all")[0]
    invoice = world.all("/v1/invoices")[0]
    reads = [
        (f"/v1/customers/{subscription['customer']}", ("discount.source.coupon",)),
        (
            f"/v1/subscriptions/{subscription['id']}",
            (
                "items.data.price.product",
                "items.data.price.tiers",
                "items.data.discounts",
                "latest_invoice",
                "discounts.source.coupon",
            ),
        ),
        (f"/v1/invoices/{invoice['id']}", ("payments", "parent.subscription_details.subscription")),
        (f"/v1/invoices/{invoice['id']}/lines", ("data.pricing.price_details.price",)),
    ]
    for path, expand in reads:
        found = world.get(path, expand)
        if found["object"] == "list":
            inner = tuple(e.removeprefix("data.") for e in expand)
            assert [p for line in found["data"] for p in check(line, inner)] == []
        else:
            assert check(found, expand) == [], path


def test_every_events_object_is_a_version_shaped_object_with_ids_only(world: World) -> None:
    events = world.double.events(world.account)
    kinds = {e["data"]["object"]["object"] for e in events}
    assert {"discount", "dispute", "credit_note", "invoice_payment", "charge"} <= kinds
    problems = [
        p
        for event in events
        for p in [*check(event), *check(event["data"]["object"])]
        if not p.startswith("event.data.object")
    ]
    assert problems == []
    assert {e["api_version"] for e in events} == {API_VERSION}


def test_a_request_for_another_version_is_refused_not_answered_in_the_wrong_shapes(
    world: World,
) -> None:
    response = requests.get(
        f"{world.double.base_url}/v1/customers",
        headers={
            "Authorization": f"Bearer {world.double.platform_key}",
            "Stripe-Version": "2023-08-16",
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert API_VERSION in response.json()["error"]["message"]


# -- docs/stripe-fields.md: every field the code reads ------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
_ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$")


def field_rows() -> list[tuple[str, str, list[str], set[str]]]:
    """(kind, path, modules, checks) of each row of docs/stripe-fields.md."""
    kinds = sorted(resources(), key=len, reverse=True)
    rows = []
    for line in (ROOT / "docs" / "stripe-fields.md").read_text().splitlines():
        found = _ROW.match(line)
        if not found or found.group(1) == "field":
            continue
        field, modules, checks = found.groups()
        kind = next(k for k in kinds if field.startswith(k + "."))
        rows.append(
            (
                kind,
                field.removeprefix(kind + "."),
                re.findall(r"shared/[\w/]+\.py", modules),
                {c.strip() for c in checks.split(",")},
            )
        )
    return rows


def samples(world: World) -> dict[str, list[dict[str, Any]]]:
    """Objects of each kind, read as Omniroo reads them."""
    subs = world.all("/v1/subscriptions", SUBSCRIPTION_LIST_EXPAND, status="all")
    customers = world.all("/v1/customers", ("data.discount.source.coupon",))
    invoices = world.all("/v1/invoices")
    items = [i for s in subs for i in s["items"]["data"]]
    return {
        "customer": customers,
        "subscription": subs,
        "subscription_item": items,
        "price": world.all("/v1/prices"),
        "product": world.all("/v1/products"),
        "coupon": world.all("/v1/coupons"),
        "discount": [
            *(c["discount"] for c in customers if c["discount"]),
            *(d for owner in (*subs, *items) for d in owner["discounts"]),
        ],
        "invoice": invoices,
        "line_item": [line for i in invoices for line in i["lines"]["data"]],
        "charge": world.all("/v1/charges"),
        "refund": world.all("/v1/refunds"),
        "dispute": world.all("/v1/disputes"),
        "credit_note": world.all("/v1/credit_notes"),
        "checkout.session": world.all("/v1/checkout/sessions"),
        "event": world.double.events(world.account),
    }


def carries(obj: Any, path: list[str]) -> bool:
    """Every step of ``path`` is a key, down to a null or the end (lists: every element)."""
    if not path or obj is None:
        return True
    if isinstance(obj, list):
        return all(carries(item, path) for item in obj)
    return isinstance(obj, dict) and path[0] in obj and carries(obj[path[0]], path[1:])


def test_the_field_table_names_real_readers() -> None:
    rows = field_rows()
    assert len(rows) > 100
    for kind, path, modules, checks in rows:
        assert modules, f"{kind}.{path}: no module named"
        assert all((ROOT / m).is_file() for m in modules), modules
        assert checks <= {"types", "double", "notification"}, checks


@pytest.mark.parametrize(
    ("kind", "path"), [(k, p) for k, p, _, checks in field_rows() if "types" in checks]
)
def test_every_field_the_code_reads_is_in_the_pinned_version(kind: str, path: str) -> None:
    assert field_path(kind, path) == []


def test_every_field_the_code_reads_is_carried_by_the_doubles_objects(world: World) -> None:
    found = samples(world)
    lacking = [
        f"{kind}.{path}"
        for kind, path, _, checks in field_rows()
        if "double" in checks
        for obj in found[kind] or [None]
        if obj is None or not carries(obj, path.split("."))
    ]
    assert lacking == []
