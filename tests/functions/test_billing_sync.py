"""Billing events through the whole path: one scenario per handled event type (SYNC.md).

Each scenario makes the Stripe double emit the event (or, for the few types the double cannot
produce, crafts it around a real object: the push refetches the object anyway), delivers it
signed to ``stripe_webhook``, lets the worker run ``hubspot_push`` and checks HubSpot.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from doubles.stripe.wire import StripeError
from shared.events import EVENT_OBJECTS
from tests.events import make_event
from tests.plugins.stack import Stack

DAY = 24 * 3600


@dataclass
class Shop:
    stack: Stack
    customer: str = ""
    product: str = ""
    price: str = ""

    @property
    def stripe(self) -> Any:
        return self.stack.stripe

    @property
    def account(self) -> str:
        return self.stack.account

    def open(self, email: str = "buyer@example.com", amount: int = 4900) -> "Shop":
        self.customer = self.stripe.create_customer(self.account, email=email, name="Bo Buyer")[
            "id"
        ]
        self.product = self.stripe.create_product(self.account, "Pro plan")["id"]
        self.price = self.stripe.create_price(self.account, self.product, amount, "usd", "month")[
            "id"
        ]
        return self

    def subscribe(self, quantity: int = 1, **more: Any) -> dict[str, Any]:
        items = [{"price": self.price, "quantity": quantity}]
        return dict(self.stripe.create_subscription(self.account, self.customer, items, **more))


def deliver(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
    response = stack.deliver(event)
    assert response.status_code == 200, response.get_data()
    assert response.get_json()["outcome"] == "accepted"
    stack.drain()
    outcome = stack.outcomes()[event["id"]]
    assert outcome["status"] in ("synced", "skipped"), outcome
    return dict(outcome)


def latest(stack: Stack, type_: str) -> dict[str, Any]:
    found = [e for e in stack.stripe.events(stack.account) if e["type"] == type_]
    assert found, f"the double emitted no {type_}"
    return dict(found[-1])


def crafted(stack: Stack, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return make_event(type_, {"id": obj["id"], "object": obj["object"]}, stack.account)


def records(stack: Stack, object_type: str) -> list[dict[str, Any]]:
    return [r for r in stack.hubspot.records(stack.portal_id, object_type) if not r["archived"]]


def one(stack: Stack, object_type: str) -> dict[str, str]:
    [only] = records(stack, object_type)
    return dict(only["properties"])


def contact(stack: Stack) -> dict[str, str]:
    return one(stack, "contacts")


# --- scenarios: (make the event happen, return it) and (check HubSpot afterwards) -------------


def sub_created(shop: Shop) -> dict[str, Any]:
    shop.subscribe(quantity=2)
    return latest(shop.stack, "customer.subscription.created")


def check_active_deal(shop: Shop) -> None:
    deal = one(shop.stack, "deals")
    assert (deal["dealstage"], deal["amount"], deal["deal_currency_code"]) == (
        "closedwon",
        "98.00",
        "USD",
    )
    assert deal["stripe_mrr"] == "98.00" and deal["dealname"] == "Bo Buyer - Pro plan"
    line = one(shop.stack, "line_items")
    assert (line["name"], line["price"], line["quantity"]) == ("Pro plan", "49.00", "2")
    [deal_record] = records(shop.stack, "deals")
    [contact_record] = records(shop.stack, "contacts")
    hub = shop.stack.hubspot
    assert hub.associations(shop.stack.portal_id, "deals", deal_record["id"], "contacts") == [
        contact_record["id"]
    ]
    assert (
        len(hub.associations(shop.stack.portal_id, "deals", deal_record["id"], "line_items")) == 1
    )
    assert contact(shop.stack)["stripe_mrr"] == "98.00"


def sub_updated(shop: Shop) -> dict[str, Any]:
    sub = shop.subscribe(quantity=1)
    item = sub["items"]["data"][0]["id"]
    shop.stripe.update_subscription(shop.account, sub["id"], items=[{"id": item, "quantity": 3}])
    return latest(shop.stack, "customer.subscription.updated")


def check_updated_deal(shop: Shop) -> None:
    assert one(shop.stack, "deals")["amount"] == "147.00"
    assert one(shop.stack, "line_items")["quantity"] == "3"


def sub_deleted(shop: Shop) -> dict[str, Any]:
    sub = shop.subscribe()
    shop.stripe.cancel_subscription(shop.account, sub["id"])
    return latest(shop.stack, "customer.subscription.deleted")


def check_lost_deal(shop: Shop) -> None:
    deal = one(shop.stack, "deals")
    assert (deal["dealstage"], deal["stripe_mrr"]) == ("closedlost", "0.00")
    assert deal["stripe_canceled_at"]
    assert contact(shop.stack)["stripe_churn_date"] == deal["stripe_canceled_at"]


def sub_crafted(type_: str) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        return crafted(shop.stack, type_, shop.subscribe())

    return make


def check_deal_exists(shop: Shop) -> None:
    assert one(shop.stack, "deals")["stripe_subscription_id"].startswith("sub_")


def one_off_invoice(action: str | None, type_: str) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        setup = {"amount": 12000, "currency": "usd", "description": "Setup"}
        invoice = shop.stripe.create_invoice(shop.account, shop.customer, items=[setup])
        shop.stripe.finalize_invoice(shop.account, invoice["id"])
        if action == "pay":
            shop.stripe.pay_invoice(shop.account, invoice["id"])
        elif action == "fail":
            shop.stripe.fail_next_payment(shop.account, shop.customer)
            with pytest.raises(StripeError):  # a declined payment is Stripe's 402
                shop.stripe.pay_invoice(shop.account, invoice["id"])
        elif action == "void":
            shop.stripe.void_invoice(shop.account, invoice["id"])
        elif action == "uncollectible":
            shop.stripe.mark_uncollectible(shop.account, invoice["id"])
        return latest(shop.stack, type_)

    return make


def check_invoice_deal(stage: str, status: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        deal = one(shop.stack, "deals")
        assert deal["stripe_invoice_id"].startswith("in_")
        assert (deal["dealstage"], deal["stripe_last_invoice_status"]) == (stage, status)
        assert deal["amount"] == "120.00"
        assert one(shop.stack, "line_items")["name"] == "Setup"

    return check


def charge(
    type_: str, fail: bool = False, refund: int | None = None
) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        made = shop.stripe.create_charge(shop.account, shop.customer, 5000, "usd", fail=fail)
        if refund:
            shop.stripe.refund_charge(shop.account, made["id"], refund)
        if type_ in ("refund.failed", "refund.updated"):
            [refund_obj] = shop.stripe.objects(shop.account, "refund")
            return crafted(shop.stack, type_, refund_obj)
        return latest(shop.stack, type_)

    return make


def check_ltv(value: str, status: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        props = contact(shop.stack)
        assert (props["stripe_lifetime_value"], props["stripe_last_payment_status"]) == (
            value,
            status,
        )

    return check


def product_event(type_: str) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        if type_ == "product.updated":
            shop.stripe.update_product(shop.account, shop.product, name="Pro plan 2")
        if type_ == "price.updated":
            shop.stripe.update_price(shop.account, shop.price, nickname="Monthly")
        if type_ == "product.deleted":
            spare = shop.stripe.create_product(shop.account, "Unused")
            shop.stripe.delete_product(shop.account, spare["id"])
        if type_ == "price.deleted":
            spare = shop.stripe.create_price(shop.account, shop.product, 100, "usd", "month")
            shop.stripe.delete_price(shop.account, spare["id"])
        return latest(shop.stack, type_)

    return make


def check_product(name: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        product = one(shop.stack, "products")
        assert (product["name"], product["price"], product["recurringbillingfrequency"]) == (
            name,
            "49.00",
            "monthly",
        )

    return check


def check_no_product(shop: Shop) -> None:
    assert records(shop.stack, "products") == []


def checkout(shop: Shop) -> dict[str, Any]:
    session = shop.stripe.create_checkout_session(
        shop.account,
        mode="subscription",
        line_items=[{"price": shop.price, "quantity": 1}],
        success_url="https://example.com/thanks",
    )
    shop.stripe.complete_checkout_session(
        shop.account, session["id"], email="new@example.com", name="New Buyer"
    )
    return latest(shop.stack, "checkout.session.completed")


def check_checkout(shop: Shop) -> None:
    emails = sorted(r["properties"].get("email") for r in records(shop.stack, "contacts"))
    assert "new@example.com" in emails
    assert one(shop.stack, "deals")["dealstage"] == "closedwon"


def customer_event(type_: str) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        if type_ == "customer.updated":
            shop.stripe.update_customer(shop.account, shop.customer, name="Bo Renamed")
        if type_ == "customer.deleted":
            shop.stripe.delete_customer(shop.account, shop.customer)
        return latest(shop.stack, type_)

    return make


def check_contact(status: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        assert contact(shop.stack)["stripe_subscription_status"] == status

    return check


def customer_discount(type_: str) -> Callable[[Shop], dict[str, Any]]:
    """A 20% forever discount on the customer itself, after the customer subscribed."""

    def make(shop: Shop) -> dict[str, Any]:
        shop.subscribe()
        coupon = shop.stripe.create_coupon(shop.account, percent_off=20, duration="forever")
        shop.stripe.add_customer_discount(shop.account, shop.customer, coupon["id"])
        if type_ == "customer.discount.deleted":
            shop.stripe.delete_customer_discount(shop.account, shop.customer)
        if type_ == "customer.discount.updated":  # Stripe sends it; the double has no cause
            return make_event(
                type_,
                latest(shop.stack, "customer.discount.created")["data"]["object"],
                shop.account,
            )
        return latest(shop.stack, type_)

    return make


def check_discounted(amount: str) -> Callable[[Shop], None]:
    """The customer's discount on the deal's amount and MRR as on the contact's."""

    def check(shop: Shop) -> None:
        deal = one(shop.stack, "deals")
        assert (deal["amount"], deal["stripe_mrr"]) == (amount, amount)
        assert contact(shop.stack)["stripe_mrr"] == amount

    return check


def captured(shop: Shop) -> dict[str, Any]:
    held = shop.stripe.create_charge(shop.account, shop.customer, 5000, "usd", capture=False)
    shop.stripe.capture_charge(shop.account, held["id"], amount=4000)  # the rest is refunded
    return latest(shop.stack, "charge.captured")


def dispute(type_: str, outcome: str | None = None) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        made = shop.stripe.create_charge(shop.account, shop.customer, 5000, "usd")
        opened = shop.stripe.dispute_charge(shop.account, made["id"])
        if outcome:
            shop.stripe.settle_dispute(shop.account, opened["id"], outcome)
        if type_ == "charge.dispute.updated":  # evidence submitted: no helper, crafted
            return crafted(shop.stack, type_, opened)
        return latest(shop.stack, type_)

    return make


def credit_note(type_: str) -> Callable[[Shop], dict[str, Any]]:
    def make(shop: Shop) -> dict[str, Any]:
        setup = {"amount": 12000, "currency": "usd", "description": "Setup"}
        invoice = shop.stripe.create_invoice(shop.account, shop.customer, items=[setup])
        shop.stripe.finalize_invoice(shop.account, invoice["id"])
        if type_ == "credit_note.voided":
            note = shop.stripe.create_credit_note(shop.account, invoice["id"], amount=2000)
            shop.stripe.void_credit_note(shop.account, note["id"])
            return latest(shop.stack, type_)
        shop.stripe.pay_invoice(shop.account, invoice["id"])
        note = shop.stripe.create_credit_note(
            shop.account, invoice["id"], amount=2000, refund_amount=2000
        )
        if type_ == "credit_note.updated":  # a memo changed: crafted around the real note
            return crafted(shop.stack, type_, note)
        return latest(shop.stack, type_)

    return make


def check_credited(amount: str, ltv: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        assert one(shop.stack, "deals")["amount"] == amount
        assert contact(shop.stack)["stripe_lifetime_value"] == ltv

    return check


SCENARIOS: dict[str, tuple[Callable[[Shop], dict[str, Any]], Callable[[Shop], None] | None]] = {
    "customer.created": (customer_event("customer.created"), check_contact("none")),
    "customer.updated": (customer_event("customer.updated"), check_contact("none")),
    "customer.deleted": (customer_event("customer.deleted"), None),
    "customer.subscription.created": (sub_created, check_active_deal),
    "customer.subscription.updated": (sub_updated, check_updated_deal),
    "customer.subscription.deleted": (sub_deleted, check_lost_deal),
    "customer.subscription.paused": (
        sub_crafted("customer.subscription.paused"),
        check_deal_exists,
    ),
    "customer.subscription.resumed": (
        sub_crafted("customer.subscription.resumed"),
        check_deal_exists,
    ),
    "customer.subscription.trial_will_end": (
        sub_crafted("customer.subscription.trial_will_end"),
        check_deal_exists,
    ),
    "invoice.finalized": (
        one_off_invoice(None, "invoice.finalized"),
        check_invoice_deal("contractsent", "open"),
    ),
    "invoice.paid": (
        one_off_invoice("pay", "invoice.paid"),
        check_invoice_deal("closedwon", "paid"),
    ),
    "invoice.payment_failed": (
        one_off_invoice("fail", "invoice.payment_failed"),
        check_invoice_deal("contractsent", "open"),
    ),
    "invoice.voided": (
        one_off_invoice("void", "invoice.voided"),
        check_invoice_deal("closedlost", "void"),
    ),
    "invoice.marked_uncollectible": (
        one_off_invoice("uncollectible", "invoice.marked_uncollectible"),
        check_invoice_deal("closedlost", "uncollectible"),
    ),
    "customer.discount.created": (
        customer_discount("customer.discount.created"),
        check_discounted("39.20"),
    ),
    "customer.discount.updated": (
        customer_discount("customer.discount.updated"),
        check_discounted("39.20"),
    ),
    "customer.discount.deleted": (
        customer_discount("customer.discount.deleted"),
        check_discounted("49.00"),
    ),
    "charge.captured": (captured, check_ltv("40.00", "succeeded")),
    "charge.dispute.created": (dispute("charge.dispute.created"), check_ltv("50.00", "disputed")),
    "charge.dispute.updated": (dispute("charge.dispute.updated"), check_ltv("50.00", "disputed")),
    "charge.dispute.closed": (
        dispute("charge.dispute.closed", "lost"),
        check_ltv("0.00", "succeeded"),
    ),
    "credit_note.created": (credit_note("credit_note.created"), check_credited("100.00", "100.00")),
    "credit_note.updated": (credit_note("credit_note.updated"), check_credited("100.00", "100.00")),
    "credit_note.voided": (credit_note("credit_note.voided"), check_credited("120.00", "0.00")),
    "charge.succeeded": (charge("charge.succeeded"), check_ltv("50.00", "succeeded")),
    "charge.failed": (charge("charge.failed", fail=True), check_ltv("0", "failed")),
    "charge.refunded": (charge("charge.refunded", refund=2000), check_ltv("30.00", "succeeded")),
    "refund.created": (charge("refund.created", refund=5000), check_ltv("0.00", "succeeded")),
    "refund.updated": (charge("refund.updated", refund=1000), check_ltv("40.00", "succeeded")),
    "refund.failed": (charge("refund.failed", refund=1000), check_ltv("40.00", "succeeded")),
    # The product's price exists by the time its creation is delivered: current state wins.
    "product.created": (product_event("product.created"), check_product("Pro plan")),
    "product.updated": (product_event("product.updated"), check_product("Pro plan 2")),
    "product.deleted": (product_event("product.deleted"), check_no_product),
    "price.created": (product_event("price.created"), check_product("Pro plan")),
    "price.updated": (product_event("price.updated"), check_product("Pro plan (Monthly)")),
    "price.deleted": (product_event("price.deleted"), None),
    "checkout.session.completed": (checkout, check_checkout),
}


def test_every_handled_event_type_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(EVENT_OBJECTS)


@pytest.mark.parametrize("event_type", sorted(SCENARIOS))
def test_event_type_through_the_whole_path(stack: Stack, event_type: str) -> None:
    make, check = SCENARIOS[event_type]
    shop = Shop(stack).open()
    event = make(shop)
    assert event["type"] == event_type
    deliver(stack, event)
    if check is not None:
        check(shop)


def set_settings(stack: Stack, **settings: Any) -> None:
    project = stack.runtime.store.get("projects", stack.project_id)
    assert project is not None
    project["settings"] = {**project["settings"], **settings}
    stack.runtime.store.put("projects", stack.project_id, project)


@pytest.mark.parametrize(
    ("matching", "email", "metadata", "company"),
    [
        ("off", "bo@acme.example", {}, None),
        ("domain", "bo@acme.example", {}, ("domain:acme.example", "acme.example")),
        ("domain", "bo@gmail.com", {}, None),
        ("metadata", "bo@gmail.com", {"company": "Acme Inc"}, ("name:acme inc", "Acme Inc")),
        (
            "domain_or_metadata",
            "bo@gmail.com",
            {"company": "Acme Inc"},
            ("name:acme inc", "Acme Inc"),
        ),
    ],
)
def test_company_matching_setting(
    stack: Stack,
    matching: str,
    email: str,
    metadata: dict[str, str],
    company: tuple[str, str] | None,
) -> None:
    set_settings(stack, company_matching=matching)
    shop = Shop(stack).open(email=email)
    if metadata:
        stack.stripe.update_customer(stack.account, shop.customer, metadata=metadata)
    shop.subscribe()
    deliver(stack, latest(stack, "customer.subscription.created"))
    companies = records(stack, "companies")
    if company is None:
        assert companies == []
        return
    [found] = companies
    assert (found["properties"]["omniroo_company_key"], found["properties"]["name"]) == company
    hub, portal = stack.hubspot, stack.portal_id
    [contact_record], [deal] = records(stack, "contacts"), records(stack, "deals")
    assert hub.associations(portal, "contacts", contact_record["id"], "companies") == [found["id"]]
    assert hub.associations(portal, "deals", deal["id"], "companies") == [found["id"]]
    deliver(stack, latest(stack, "customer.created"))  # repeats never duplicate the company
    assert len(records(stack, "companies")) == 1


def test_a_subscriptions_own_discount_event_refreshes_that_subscriptions_deal(stack: Stack) -> None:
    shop = Shop(stack).open()
    coupon = stack.stripe.create_coupon(stack.account, percent_off=50, duration="forever")
    shop.subscribe(quantity=2, coupon=coupon["id"])
    event = latest(stack, "customer.discount.created")
    assert event["data"]["object"]["subscription"]  # a subscription's discount, not the customer's
    deliver(stack, event)
    deal = one(stack, "deals")
    assert (deal["amount"], deal["stripe_mrr"]) == ("49.00", "49.00")  # 98.00 at 50% off
    assert contact(stack)["stripe_mrr"] == "49.00"


def test_a_renewal_invoice_updates_its_subscriptions_deal_and_makes_none(stack: Stack) -> None:
    shop = Shop(stack).open()
    shop.subscribe()
    stack.stripe.advance(31 * DAY)
    renewal = latest(stack, "invoice.paid")
    assert renewal["data"]["object"]["billing_reason"] == "subscription_cycle"
    deliver(stack, renewal)
    [deal] = records(stack, "deals")
    assert deal["properties"]["stripe_subscription_id"].startswith("sub_")
    assert deal["properties"]["stripe_last_invoice_amount"] == "49.00"
