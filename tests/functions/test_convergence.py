"""Convergence: a realistic stream of billing events for many customers, shuffled and with
duplicates, ends with HubSpot exactly equal to what Stripe's final objects say — no duplicate
record, no stale value, every association present. The Stripe double answers in the API version
Omniroo pins (tests/contract/test_stripe_double_shapes.py), so this runs on those shapes."""

import random
from decimal import Decimal
from typing import Any

import pytest

from shared.mapping.invoice import subscription_of
from shared.mapping.ops import Link, Ref, Upsert
from shared.project_settings import ProjectSettings
from shared.stripe_gateway import StripeGateway
from shared.sync.collect import COLLECTORS, Source
from tests.plugins.stack import PLATFORM_KEY, Stack

CUSTOMERS = 8


def build_history(stack: Stack, rng: random.Random) -> None:
    """Customers of every kind Omniroo reads: plain, tiered and yearly subscriptions with
    forever, repeating and once discounts (on the subscription and on an item), a customer-level
    discount, renewals (subscription_cycle invoices), a cancellation, one-off invoices with a
    credit note, refunds, and disputes (one lost, one open)."""
    stripe, acct = stack.stripe, stack.account
    product = stripe.create_product(acct, "Team plan")["id"]
    monthly = stripe.create_price(acct, product, 2500, "usd", "month")["id"]
    yearly = stripe.create_price(acct, product, 24000, "usd", "year", nickname="Yearly")["id"]
    seats = stripe.create_price(
        acct,
        stripe.create_product(acct, "Seats")["id"],
        None,
        "usd",
        "month",
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=[{"up_to": 3, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 700}],
    )["id"]
    addon_product = stripe.create_product(acct, "Add-on")["id"]
    addons = {
        interval: stripe.create_price(acct, addon_product, amount, "usd", interval)["id"]
        for interval, amount in (("month", 900), ("year", 9000))
    }
    coupons = {
        "forever": stripe.create_coupon(acct, percent_off=15, duration="forever")["id"],
        "repeating": stripe.create_coupon(
            acct, amount_off=300, currency="usd", duration="repeating", duration_in_months=2
        )["id"],
        "once": stripe.create_coupon(acct, percent_off=50, duration="once")["id"],
    }
    for i in range(CUSTOMERS):
        customer = stripe.create_customer(acct, email=f"c{i}@conv.example", name=f"Cust {i}")
        kind = i % 4
        if i == 1:
            stripe.add_customer_discount(acct, customer["id"], coupons["forever"])
        if kind == 3:
            invoice = stripe.create_invoice(
                acct,
                customer["id"],
                items=[{"amount": 5000, "currency": "usd", "description": "Consulting"}],
            )
            stripe.pay_invoice(acct, invoice["id"])
            stripe.create_credit_note(acct, invoice["id"], amount=1500, refund_amount=1500)
            continue
        price, addon = (yearly, addons["year"]) if kind == 1 else (monthly, addons["month"])
        discounts = [{"coupon": coupons[("forever", "repeating", "once")[i % 3]]}]
        sub = stripe.create_subscription(
            acct,
            customer["id"],
            [
                {"price": price, "quantity": rng.randint(1, 4)},
                {"price": addon, "quantity": 1},
                {
                    "price": seats,
                    "quantity": rng.randint(2, 6),
                    "discounts": [{"coupon": coupons["once"]}],
                },
            ]
            if kind == 0
            else [{"price": price, "quantity": rng.randint(1, 4)}, {"price": addon, "quantity": 1}],
            discounts=[] if i == 1 else discounts,
        )
        items = sub["items"]["data"]
        stripe.update_subscription(
            acct,
            sub["id"],
            items=[
                {"id": items[0]["id"], "quantity": rng.randint(2, 6)},
                {"id": items[1]["id"], "deleted": True},
            ],
        )
        if kind == 2:
            stripe.cancel_subscription(acct, sub["id"])
        charges = stripe.objects(acct, "charge")
        if charges and i % 2 == 0:
            stripe.refund_charge(acct, charges[-1]["id"], 500)
        stripe.update_customer(acct, customer["id"], name=f"Customer {i}")
    paid = [c for c in stripe.objects(acct, "charge") if c["status"] == "succeeded"]
    lost = stripe.dispute_charge(acct, paid[0]["id"])
    stripe.settle_dispute(acct, lost["id"], "lost")
    stripe.dispute_charge(acct, paid[-1]["id"], "product_not_received")
    stripe.advance(35 * 24 * 3600)  # renewals: subscription_cycle invoices; once discounts end


def expected_plan(stack: Stack) -> list[Any]:
    source = Source(
        StripeGateway(PLATFORM_KEY, stack.stripe.base_url),
        stack.account,
        ProjectSettings(),
        stack.clock.now(),
    )
    ops: list[Any] = []
    stripe = source.stripe
    for customer in stripe.list("customer", stack.account, {}):
        ops += COLLECTORS["customer"](source, customer["id"])
    for sub in stripe.list("subscription", stack.account, {"status": "all"}):
        ops += COLLECTORS["subscription"](source, sub["id"])
    for invoice in stripe.list("invoice", stack.account, {}):
        if not subscription_of(invoice) and invoice["status"] != "draft":
            ops += COLLECTORS["invoice"](source, invoice["id"])
    return ops


@pytest.mark.parametrize("seed", [20261129, 7, 1234])
def test_shuffled_duplicated_stream_converges_to_stripes_final_state(
    stack: Stack, seed: int
) -> None:
    rng = random.Random(seed)
    build_history(stack, rng)
    events = stack.stripe.events(stack.account)
    stream = events + rng.sample(events, len(events) // 3)
    rng.shuffle(stream)
    for event in stream:
        assert stack.deliver(event).status_code == 200
    stack.drain()
    failed = [o for o in stack.outcomes().values() if o["status"] == "failed"]
    assert failed == []
    assert list(stack.runtime.store.scan("dead_letters")) == []

    hub, portal = stack.hubspot, stack.portal_id
    live = {
        t: [r for r in hub.records(portal, t) if not r["archived"]]
        for t in ("contacts", "deals", "line_items")
    }
    plan = expected_plan(stack)
    upserts = {(op.object_type, op.id_property, op.id): op for op in plan if isinstance(op, Upsert)}
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for object_type, records in live.items():
        for record in records:
            keys = [
                (object_type, p, v)
                for p, v in record["properties"].items()
                if p.startswith("stripe_")
                and p.endswith("_id")
                and v
                and (object_type, p, v) in upserts
            ]
            assert len(keys) == 1, f"{object_type} {record} matches {keys}"
            assert keys[0] not in by_key, f"duplicate record for {keys[0]}"
            by_key[keys[0]] = record
    assert set(by_key) == set(upserts), "missing or extra records"
    for key, op in upserts.items():
        found = by_key[key]["properties"]
        stale = {
            p: (v, found.get(p, ""))
            for p, v in op.properties.items()
            if not _same(v, found.get(p) or "")
        }
        assert stale == {}, f"{key}: stale values (expected, found) {stale}"
    for link in (op for op in plan if isinstance(op, Link)):
        source, target = _id(by_key, link.source), _id(by_key, link.target)
        assert target in hub.associations(
            portal, link.source.object_type, source, link.target.object_type
        ), f"missing {link}"
    for deal in live["deals"]:
        items = hub.associations(portal, "deals", deal["id"], "line_items")
        wanted = [
            op
            for op in plan
            if isinstance(op, Link)
            and op.target.object_type == "line_items"
            and _id(by_key, op.source) == deal["id"]
        ]
        assert len(items) == len(wanted), f"deal {deal['id']} has stale line items"
    check_money(stack, live)


def check_money(stack: Stack, live: dict[str, list[dict[str, Any]]]) -> None:
    """Figures worked out by hand from Stripe's final objects, not by the code under test."""
    stripe, acct = stack.stripe, stack.account
    by_email = {c["properties"].get("email"): c["properties"] for c in live["contacts"]}
    # Customer 1 has the customer-level 15% and a yearly plan of 240.00 x quantity.
    [sub] = [s for s in stripe.objects(acct, "subscription") if s["customer"] == _cus(stack, 1)]
    quantity = sub["items"]["data"][0]["quantity"]
    [deal] = [
        d for d in live["deals"] if d["properties"].get("stripe_subscription_id") == sub["id"]
    ]
    assert deal["properties"]["amount"] == f"{Decimal(240 * quantity) * Decimal('0.85'):.2f}"
    assert (
        by_email["c1@conv.example"]["stripe_mrr"]
        == f"{Decimal(20 * quantity) * Decimal('0.85'):.2f}"
    )
    # One dispute lost, one open: the open one says so on its customer's contact.
    statuses = [p.get("stripe_last_payment_status") for p in by_email.values()]
    assert statuses.count("disputed") == 1


def _cus(stack: Stack, index: int) -> str:
    [found] = [
        e["data"]["object"]["id"]
        for e in stack.stripe.events(stack.account)
        if e["type"] == "customer.created"
        and e["data"]["object"]["email"] == f"c{index}@conv.example"
    ]
    return str(found)


def _same(expected: str, found: str) -> bool:
    """HubSpot keeps datetime properties (closedate) as midnight timestamps of the date sent."""
    return found == expected or found == f"{expected}T00:00:00.000Z"


def _id(by_key: dict[tuple[str, str, str], dict[str, Any]], ref: Ref) -> str:
    return str(by_key[(ref.object_type, ref.id_property, ref.id)]["id"])
