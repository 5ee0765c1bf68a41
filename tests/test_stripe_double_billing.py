"""Billing in the Stripe double, driven through the real ``stripe`` library.

Products, prices, coupons, subscriptions, invoices, charges, refunds and checkout sessions: their
shapes, events (and their order), pagination, ``expand[]``, Stripe's refusals, and a subscription's
life as time passes (``advance``).
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
import stripe

from doubles.stripe import StripeDouble
from doubles.stripe.wire import StripeError

KEY = "sk_test_omniroo"
START = 1_700_000_000  # 2023-11-14T22:13:20Z
DAY = 86_400


class FakeClock:
    def __init__(self) -> None:
        self.now = float(START)

    def __call__(self) -> float:
        return self.now


@dataclass
class Billing:
    double: StripeDouble
    api: stripe.StripeClient
    account: str
    clock: FakeClock

    @property
    def on(self) -> dict[str, Any]:
        return {"stripe_account": self.account}

    def types(self, since: int = 0) -> list[str]:
        return [e["type"] for e in self.double.events(self.account)[since:]]

    def mark(self) -> int:
        return len(self.double.events(self.account))

    def product(self, name: str = "Gold") -> Any:
        return self.api.v1.products.create(params={"name": name}, options=self.on)

    def price(self, amount: int = 1500, interval: str | None = "month", **more: Any) -> Any:
        params: dict[str, Any] = {
            "product": more.pop("product", None) or self.product().id,
            "currency": more.pop("currency", "usd"),
            "unit_amount": amount,
            **more,
        }
        if interval:
            params["recurring"] = {"interval": interval, **params.get("recurring", {})}
        return self.api.v1.prices.create(params=params, options=self.on)

    def customer(self, email: str = "ada@example.com") -> Any:
        return self.api.v1.customers.create(params={"email": email}, options=self.on)

    def subscribe(self, customer: str, price: str, quantity: int = 1, **more: Any) -> Any:
        params = {"customer": customer, "items": [{"price": price, "quantity": quantity}], **more}
        return self.api.v1.subscriptions.create(params=params, options=self.on)


@pytest.fixture
def b() -> Iterator[Billing]:
    clock = FakeClock()
    with StripeDouble(clock=clock) as double:
        api = stripe.StripeClient(
            KEY, base_addresses={"api": double.base_url}, max_network_retries=0
        )
        yield Billing(double, api, double.add_account(), clock)


def refused(call: Any) -> dict[str, Any]:
    """The error body of a call Stripe refuses with 400."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.http_status in (400, 404)
    error: dict[str, Any] = caught.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    return error


# -- products ------------------------------------------------------------------------------------


def test_product_shape_update_events_and_delete_rule(b: Billing) -> None:
    product = b.api.v1.products.create(
        params={"name": "Gold", "description": "Best", "metadata": {"tier": "1"}}, options=b.on
    )
    assert re.fullmatch(r"prod_[A-Za-z0-9]{14}", product.id)
    assert set(product.to_dict()) == {
        *("id", "object", "active", "created", "default_price", "description", "images"),
        *("livemode", "marketing_features", "metadata", "name", "package_dimensions"),
        *("shippable", "statement_descriptor", "tax_code", "type", "unit_label", "updated", "url"),
    }
    assert (product.active, product.default_price, product.description) == (True, None, "Best")
    b.clock.now += 10
    b.api.v1.products.update(product.id, params={"name": "Platinum"}, options=b.on)
    created, updated = b.double.events(b.account)
    assert (created["type"], updated["type"]) == ("product.created", "product.updated")
    assert updated["data"]["previous_attributes"] == {"name": "Gold", "updated": START}
    price = b.price(product=product.id)
    error = refused(lambda: b.api.v1.products.delete(product.id, options=b.on))
    assert error["message"] == (
        "This product cannot be deleted because it has one or more user-created prices."
    )
    b.api.v1.products.update(product.id, params={"default_price": price.id}, options=b.on)
    archive = refused(
        lambda: b.api.v1.prices.update(price.id, params={"active": False}, options=b.on)
    )
    assert archive["param"] == "active"
    lonely = b.product("Lonely")
    gone = b.api.v1.products.delete(lonely.id, options=b.on)
    assert gone.to_dict() == {"id": lonely.id, "object": "product", "deleted": True}
    assert b.types()[-1] == "product.deleted"
    missing = refused(lambda: b.api.v1.products.retrieve(lonely.id, options=b.on))
    assert missing["code"] == "resource_missing"


def test_product_with_default_price_data_and_custom_id(b: Billing) -> None:
    product = b.api.v1.products.create(
        params={
            "id": "gold",
            "name": "Gold",
            "default_price_data": {"currency": "eur", "unit_amount": 900},
        },
        options=b.on,
    )
    assert product.id == "gold"
    price = b.api.v1.prices.retrieve(product.default_price, options=b.on)
    assert (price.product, price.currency, price.type) == ("gold", "eur", "one_time")
    assert b.types() == ["product.created", "price.created"]
    again = refused(
        lambda: b.api.v1.products.create(params={"id": "gold", "name": "x"}, options=b.on)
    )
    assert again["code"] == "resource_already_exists"


# -- prices --------------------------------------------------------------------------------------


def test_recurring_price_shape(b: Billing) -> None:
    price = b.price(1500, nickname="Monthly", lookup_key="gold_monthly", metadata={"a": "1"})
    body = price.to_dict()
    assert re.fullmatch(r"price_[A-Za-z0-9]{24}", body["id"])
    assert set(body) == {
        *("id", "object", "active", "billing_scheme", "created", "currency"),
        *("custom_unit_amount", "livemode", "lookup_key", "metadata", "nickname", "product"),
        *("recurring", "tax_behavior", "tiers_mode", "transform_quantity", "type"),
        *("unit_amount", "unit_amount_decimal"),
    }
    assert body["recurring"] == {
        "interval": "month",
        "interval_count": 1,
        "meter": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }
    # The wire carries "1500"; the stripe library reads decimal strings as Decimal.
    assert (body["unit_amount"], body["unit_amount_decimal"], body["type"]) == (
        1500,
        Decimal("1500"),
        "recurring",
    )
    assert json.loads(price.last_response.body)["unit_amount_decimal"] == "1500"
    assert (body["lookup_key"], body["nickname"], body["billing_scheme"]) == (
        "gold_monthly",
        "Monthly",
        "per_unit",
    )
    expanded = b.api.v1.prices.retrieve(price.id, params={"expand": ["product"]}, options=b.on)
    assert expanded.product.object == "product"
    duplicate = refused(lambda: b.price(100, lookup_key="gold_monthly"))
    assert duplicate["param"] == "lookup_key"


def test_tiers_show_only_when_expanded(b: Billing) -> None:
    tiers = [
        {"up_to": 10, "unit_amount": 500},
        {"up_to": 100, "unit_amount_decimal": "350.5", "flat_amount": 100},
        {"up_to": "inf", "unit_amount": 200},
    ]
    params: dict[str, Any] = {
        "product": b.product().id,
        "currency": "usd",
        "billing_scheme": "tiered",
        "tiers_mode": "graduated",
        "tiers": tiers,
        "recurring": {"interval": "month"},
    }
    price = b.api.v1.prices.create(params=params, options=b.on)
    assert "tiers" not in price.to_dict()
    assert (price.unit_amount, price.tiers_mode, price.billing_scheme) == (
        None,
        "graduated",
        "tiered",
    )
    shown = b.api.v1.prices.retrieve(price.id, params={"expand": ["tiers"]}, options=b.on)
    assert json.loads(shown.last_response.body)["tiers"] == [
        {
            "flat_amount": None,
            "flat_amount_decimal": None,
            "unit_amount": 500,
            "unit_amount_decimal": "500",
            "up_to": 10,
        },
        {
            "flat_amount": 100,
            "flat_amount_decimal": "100",
            "unit_amount": None,
            "unit_amount_decimal": "350.5",
            "up_to": 100,
        },
        {
            "flat_amount": None,
            "flat_amount_decimal": None,
            "unit_amount": 200,
            "unit_amount_decimal": "200",
            "up_to": None,
        },
    ]
    listed = b.api.v1.prices.list(params={"expand": ["data.tiers"]}, options=b.on)
    assert len(listed.data[0].tiers) == 3
    no_mode = refused(
        lambda: b.api.v1.prices.create(
            params={k: v for k, v in params.items() if k != "tiers_mode"}, options=b.on
        )
    )
    assert (no_mode["code"], no_mode["param"]) == ("parameter_missing", "tiers_mode")
    bad_last = [{"up_to": 10, "unit_amount": 1}, {"up_to": 20, "unit_amount": 1}]
    last = refused(
        lambda: b.api.v1.prices.create(params={**params, "tiers": bad_last}, options=b.on)
    )
    assert last["param"] == "tiers[1][up_to]"


def test_price_filters_and_pagination(b: Billing) -> None:
    gold, silver = b.product("Gold"), b.product("Silver")
    ids = []
    for n in range(5):
        b.clock.now += 1
        ids.append(b.price(100 + n, product=gold.id).id)
    one_time = b.price(999, interval=None, product=silver.id)
    b.api.v1.prices.update(ids[0], params={"active": False}, options=b.on)
    by_product = b.api.v1.prices.list(params={"product": gold.id, "limit": 2}, options=b.on)
    assert [p.id for p in by_product.data] == [ids[4], ids[3]]
    assert by_product.has_more is True
    after = b.api.v1.prices.list(
        params={"product": gold.id, "starting_after": ids[3]}, options=b.on
    )
    assert [p.id for p in after.data] == [ids[2], ids[1], ids[0]]
    before = b.api.v1.prices.list(params={"ending_before": ids[2], "limit": 1}, options=b.on)
    assert [p.id for p in before.data] == [ids[3]]
    assert [p.id for p in b.api.v1.prices.list(params={"type": "one_time"}, options=b.on).data] == [
        one_time.id
    ]
    inactive = b.api.v1.prices.list(params={"active": False}, options=b.on)
    assert [p.id for p in inactive.data] == [ids[0]]
    assert b.types().count("price.updated") == 1
    updated = b.double.events(b.account)[-1]
    assert updated["data"]["previous_attributes"] == {"active": True}


def test_price_refusals(b: Billing) -> None:
    missing = refused(
        lambda: b.api.v1.prices.create(
            params={"product": "prod_nope", "currency": "usd", "unit_amount": 1}, options=b.on
        )
    )
    assert missing == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such product: 'prod_nope'",
        "param": "product",
        "type": "invalid_request_error",
    }
    product = b.product().id
    no_amount = refused(
        lambda: b.api.v1.prices.create(params={"product": product, "currency": "usd"}, options=b.on)
    )
    assert no_amount["param"] == "unit_amount"
    interval = refused(lambda: b.price(100, interval="fortnight"))
    assert interval["param"] == "recurring[interval]"


# -- coupons -------------------------------------------------------------------------------------


def test_coupons_shapes_and_refusals(b: Billing) -> None:
    percent = b.api.v1.coupons.create(
        params={
            "id": "WELCOME",
            "percent_off": 25.5,
            "duration": "repeating",
            "duration_in_months": 3,
        },
        options=b.on,
    )
    assert percent.to_dict() == {
        "id": "WELCOME",
        "object": "coupon",
        "amount_off": None,
        "created": START,
        "currency": None,
        "duration": "repeating",
        "duration_in_months": 3,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": None,
        "percent_off": 25.5,
        "redeem_by": None,
        "times_redeemed": 0,
        "valid": True,
    }
    amount = b.api.v1.coupons.create(
        params={"amount_off": 500, "currency": "usd", "duration": "once"}, options=b.on
    )
    assert re.fullmatch(r"[A-Z0-9a-z]{8}", amount.id)
    assert (amount.amount_off, amount.currency) == (500, "usd")
    both = refused(
        lambda: b.api.v1.coupons.create(
            params={"percent_off": 5, "amount_off": 5, "currency": "usd"}, options=b.on
        )
    )
    assert both["param"] == "percent_off"
    months = refused(
        lambda: b.api.v1.coupons.create(
            params={"percent_off": 5, "duration": "repeating"}, options=b.on
        )
    )
    assert months["param"] == "duration_in_months"
    b.api.v1.coupons.delete(amount.id, options=b.on)
    assert b.types() == ["coupon.created", "coupon.created", "coupon.deleted"]


# -- subscriptions -------------------------------------------------------------------------------

SUBSCRIPTION_KEYS = {
    *("id", "object", "application", "application_fee_percent", "automatic_tax"),
    *("billing_cycle_anchor", "billing_cycle_anchor_config", "billing_mode"),
    *("billing_schedules", "billing_thresholds", "cancel_at", "cancel_at_period_end"),
    *("canceled_at", "cancellation_details", "collection_method", "created", "currency"),
    *("customer", "customer_account", "days_until_due", "invoice_settings"),
    *("default_payment_method", "default_source", "default_tax_rates", "description"),
    *("discounts", "ended_at", "items", "latest_invoice", "livemode", "managed_payments"),
    *("metadata", "next_pending_invoice_item_invoice", "on_behalf_of", "pause_collection"),
    *("payment_settings", "pending_invoice_item_interval", "pending_setup_intent"),
    *("pending_update", "schedule", "start_date", "status", "test_clock", "transfer_data"),
    *("trial_end", "trial_settings", "trial_start"),
}


def test_subscription_create_bills_and_pays_in_stripes_event_order(b: Billing) -> None:
    price, customer = b.price(1500), b.customer()
    sub = b.subscribe(customer.id, price.id, quantity=3)
    body = sub.to_dict()
    assert set(body) == SUBSCRIPTION_KEYS
    assert re.fullmatch(r"sub_[A-Za-z0-9]{24}", body["id"])
    assert (body["status"], body["currency"], body["customer"]) == ("active", "usd", customer.id)
    assert (body["start_date"], body["created"]) == (START,) * 2
    assert body["default_payment_method"] is None
    items = body["items"]
    assert (items["object"], items["total_count"], items["url"]) == (
        "list",
        1,
        f"/v1/subscription_items?subscription={sub.id}",
    )
    [item] = items["data"]
    assert re.fullmatch(r"si_[A-Za-z0-9]{14}", item["id"])
    assert item["price"] == price.to_dict()  # the full price, embedded
    # Since 2025-03-31.basil the period is on each item: a calendar month from the start.
    assert (item["quantity"], item["subscription"], item["current_period_start"]) == (
        3,
        sub.id,
        START,
    )
    assert item["current_period_end"] == 1_702_592_000
    assert item["plan"]["object"] == "plan" and item["plan"]["amount"] == 1500
    assert b.types()[-7:] == [
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.created",
    ]
    created = b.double.events(b.account)[-1]["data"]["object"]
    assert created == json.loads(sub.last_response.body)
    invoice = b.api.v1.invoices.retrieve(
        sub.latest_invoice,
        params={
            "expand": ["payments.data.payment.charge", "parent.subscription_details.subscription"]
        },
        options=b.on,
    )
    assert (invoice.status, invoice.billing_reason, invoice.total, invoice.amount_paid) == (
        "paid",
        "subscription_create",
        4500,
        4500,
    )
    assert invoice.parent.subscription_details.subscription.id == sub.id
    [payment] = invoice.payments.data
    assert (payment.status, payment.amount_paid, payment.invoice) == ("paid", 4500, invoice.id)
    assert (payment.payment.charge.amount, payment.payment.charge.status) == (4500, "succeeded")
    [line] = invoice.lines.data
    details = line.parent.subscription_item_details
    assert (line.parent.type, line.quantity, line.amount, details.subscription_item) == (
        "subscription_item_details",
        3,
        4500,
        item["id"],
    )
    assert line.pricing.price_details.price == price.id
    assert line.description == "3 × Gold (at $15.00 / month)"  # noqa: RUF001 (Stripe's sign)
    assert line.period.to_dict() == {"start": START, "end": 1_702_592_000}


def test_subscription_expand_paths(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    sub = b.subscribe(customer.id, price.id)
    paths = ["latest_invoice", "customer", "items.data.price.product", "discounts"]
    full = b.api.v1.subscriptions.retrieve(sub.id, params={"expand": paths}, options=b.on)
    assert full.latest_invoice.object == "invoice"
    assert full.customer.email == "ada@example.com"
    assert full["items"].data[0].price.product.name == "Gold"
    deep = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice.payments.data.payment"]}, options=b.on
    )
    assert deep.latest_invoice.payments.data[0].invoice == sub.latest_invoice
    lines = b.api.v1.invoices.retrieve(
        sub.latest_invoice, params={"expand": ["lines.data.pricing.price_details"]}, options=b.on
    )
    assert lines.lines.data[0].pricing.price_details.price == price.id
    too_deep = refused(
        lambda: b.api.v1.invoices.retrieve(
            sub.latest_invoice,
            params={"expand": ["lines.data.pricing.price_details.price"]},
            options=b.on,
        )
    )
    assert too_deep["message"].startswith("You cannot expand more than 4 levels")
    listed = b.api.v1.subscriptions.list(params={"expand": ["data.customer"]}, options=b.on)
    assert listed.data[0].customer.id == customer.id
    bad = refused(
        lambda: b.api.v1.subscriptions.retrieve(sub.id, params={"expand": ["plan"]}, options=b.on)
    )
    assert bad == {
        "message": "This property cannot be expanded (plan).",
        "type": "invalid_request_error",
    }
    nested = refused(
        lambda: b.api.v1.subscriptions.retrieve(
            sub.id, params={"expand": ["items.data.price.bogus"]}, options=b.on
        )
    )
    assert nested["message"] == "This property cannot be expanded (items.data.price.bogus)."
    on_list = refused(
        lambda: b.api.v1.subscriptions.list(params={"expand": ["customer"]}, options=b.on)
    )
    assert on_list["message"] == (
        "This property cannot be expanded (customer). "
        "You may want to try expanding 'data.customer' instead."
    )
    with_subs = b.api.v1.customers.retrieve(
        customer.id, params={"expand": ["subscriptions"]}, options=b.on
    )
    assert with_subs.subscriptions.total_count == 1
    assert with_subs.subscriptions.data[0].id == sub.id
    assert "subscriptions" not in b.api.v1.customers.retrieve(customer.id, options=b.on)


def test_a_customers_subscriptions_follow_creation_and_cancellation(b: Billing) -> None:
    """The expansion answers from an index by customer kept across requests: subscriptions made
    or cancelled after it was built show (or leave) at once, newest first, ten at most."""
    price, customer, other = b.price(1500), b.customer(), b.customer()

    def shown() -> Any:
        found = b.api.v1.customers.retrieve(
            customer.id, params={"expand": ["subscriptions"]}, options=b.on
        )
        return found.subscriptions

    first = b.subscribe(customer.id, price.id)
    assert [s.id for s in shown().data] == [first.id]
    b.subscribe(other.id, price.id)
    later = [b.subscribe(customer.id, price.id) for _ in range(10)]
    listed = shown()
    assert [s.id for s in listed.data] == [s.id for s in reversed(later)]
    assert (listed.total_count, listed.has_more) == (11, True)
    b.api.v1.subscriptions.cancel(later[-1].id, options=b.on)
    listed = shown()
    assert [s.id for s in listed.data] == [s.id for s in reversed([first, *later[:-1]])]
    assert (listed.total_count, listed.has_more) == (10, False)


def test_coupon_and_discounts_on_a_subscription(b: Billing) -> None:
    price, customer = b.price(2000), b.customer()
    coupon = b.api.v1.coupons.create(
        params={"percent_off": 25, "duration": "repeating", "duration_in_months": 2}, options=b.on
    )
    flat = b.api.v1.coupons.create(
        params={"amount_off": 100, "currency": "usd", "duration": "forever"}, options=b.on
    )
    legacy = refused(lambda: b.subscribe(customer.id, price.id, coupon=coupon.id))
    assert legacy["message"] == "Received unknown parameter: coupon"  # gone since 2025-03-31
    sub = b.subscribe(
        customer.id,
        price.id,
        discounts=[{"coupon": coupon.id}, {"coupon": flat.id}],
        expand=["discounts.source.coupon", "latest_invoice"],
    )
    first, second = sub.discounts
    assert first.to_dict() == {
        "id": first.id,
        "object": "discount",
        "checkout_session": None,
        "customer": customer.id,
        "customer_account": None,
        "end": 1_705_270_400,  # two calendar months on
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": {**coupon.to_dict(), "times_redeemed": 1}, "type": "coupon"},
        "start": START,
        "subscription": sub.id,
        "subscription_item": None,
    }
    assert re.fullmatch(r"di_[A-Za-z0-9]{24}", first.id)
    assert second.end is None and second.source.coupon.id == flat.id
    unexpanded = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["discounts"]}, options=b.on
    )
    assert unexpanded.discounts[0].source.coupon == coupon.id  # an id unless expanded
    invoice = sub.latest_invoice
    assert (invoice.subtotal, invoice.total) == (2000, 1400)  # 25% off, then $1 off
    assert [d.amount for d in invoice.total_discount_amounts] == [500, 100]
    assert invoice.lines.data[0].discount_amounts[0].discount == first.id
    assert b.types()[-2:] == ["customer.discount.created", "customer.discount.created"]
    plain = b.api.v1.subscriptions.retrieve(sub.id, options=b.on)
    assert plain.discounts == [first.id, second.id]
    b.double.advance(70 * DAY)  # past both renewals: the repeating coupon has ended
    renewed = b.api.v1.invoices.list(params={"subscription": sub.id, "limit": 1}, options=b.on)
    assert renewed.data[0].total == 1900
    assert "customer.discount.deleted" in b.types()


def test_subscription_refusals(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    nobody = refused(lambda: b.subscribe("cus_nobody", price.id))
    assert (nobody["code"], nobody["param"], nobody["message"]) == (
        "resource_missing",
        "customer",
        "No such customer: 'cus_nobody'",
    )
    no_price = refused(lambda: b.subscribe(customer.id, "price_nope"))
    assert (no_price["code"], no_price["param"]) == ("resource_missing", "items[0][price]")
    old = b.price()
    b.api.v1.prices.update(old.id, params={"active": False}, options=b.on)
    inactive = refused(lambda: b.subscribe(customer.id, old.id))
    assert inactive["message"] == (
        "The price specified is inactive. This field only accepts active prices."
    )
    euro = b.price(currency="eur")
    mixed = refused(
        lambda: b.api.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}, {"price": euro.id}]},
            options=b.on,
        )
    )
    assert mixed["message"].endswith("Found mismatch in currency field.")
    metered = b.price(recurring={"usage_type": "metered", "meter": "mtr_seats"})
    quantity = refused(lambda: b.subscribe(customer.id, metered.id, quantity=2))
    assert quantity["param"] == "items[0][quantity]"
    one_time = b.price(interval=None)
    refused(lambda: b.subscribe(customer.id, one_time.id))
    no_items = refused(
        lambda: b.api.v1.subscriptions.create(params={"customer": customer.id}, options=b.on)
    )
    assert no_items["code"] == "parameter_missing"
    assert b.api.v1.subscriptions.list(options=b.on).data == []  # nothing half-made


def test_metered_item_has_no_quantity_and_bills_nothing_upfront(b: Billing) -> None:
    metered = b.price(10, recurring={"usage_type": "metered", "meter": "mtr_calls"})
    sub = b.api.v1.subscriptions.create(
        params={
            "customer": b.customer().id,
            "items": [{"price": metered.id}],
            "expand": ["latest_invoice"],
        },
        options=b.on,
    )
    item = sub["items"].data[0].to_dict()
    assert "quantity" not in item
    assert item["price"]["recurring"]["meter"] == "mtr_calls"
    assert (sub.status, sub.latest_invoice.total, sub.latest_invoice.status) == (
        "active",
        0,
        "paid",
    )


def test_update_items_and_cancel_at_period_end(b: Billing) -> None:
    price, customer = b.price(1000), b.customer()
    sub = b.subscribe(customer.id, price.id)
    item = sub["items"].data[0]
    bigger = b.price(3000, product=price.product)
    b.clock.now += 3600
    since = b.mark()
    upgraded = b.api.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price": bigger.id, "quantity": 2}],
            "metadata": {"plan": "pro"},
        },
        options=b.on,
    )
    new_item = upgraded["items"].data[0]
    assert (new_item.id, new_item.price.id, new_item.quantity) == (item.id, bigger.id, 2)
    [event] = b.double.events(b.account)[since:]
    assert event["type"] == "customer.subscription.updated"
    previous = event["data"]["previous_attributes"]
    assert set(previous) == {"items", "metadata"}
    assert previous["items"]["data"][0]["price"]["id"] == price.id
    assert previous["metadata"] == {"plan": None}
    ending = b.api.v1.subscriptions.update(
        sub.id, params={"cancel_at_period_end": True}, options=b.on
    )
    period_end = sub["items"].data[0].current_period_end
    assert (ending.cancel_at_period_end, ending.cancel_at, ending.canceled_at) == (
        True,
        period_end,
        START + 3600,
    )
    assert ending.status == "active"
    since = b.mark()
    b.double.advance(40 * DAY)
    assert b.types(since) == ["customer.subscription.deleted"]  # no renewal invoice
    ended = b.api.v1.subscriptions.retrieve(sub.id, options=b.on)
    assert (ended.status, ended.ended_at) == ("canceled", period_end)
    refused(
        lambda: b.api.v1.subscriptions.update(sub.id, params={"metadata": {"a": "b"}}, options=b.on)
    )


def test_cancel_now_and_list_filters(b: Billing) -> None:
    gold, silver = b.price(1000), b.price(2000)
    ada, bob = b.customer(), b.customer("bob@example.com")
    kept = b.subscribe(ada.id, gold.id)
    b.clock.now += 1
    gone = b.subscribe(bob.id, silver.id)
    b.clock.now += 1
    canceled = b.api.v1.subscriptions.cancel(
        gone.id, params={"cancellation_details": {"comment": "too dear"}}, options=b.on
    )
    assert (canceled.status, canceled.canceled_at, canceled.ended_at) == (
        "canceled",
        START + 2,
        START + 2,
    )
    assert canceled.cancellation_details.to_dict() == {
        "comment": "too dear",
        "feedback": None,
        "reason": "cancellation_requested",
    }
    assert b.types()[-1] == "customer.subscription.deleted"

    def ids(**params: Any) -> list[str]:
        return [s.id for s in b.api.v1.subscriptions.list(params=params, options=b.on).data]

    assert ids() == [kept.id]
    assert ids(status="all") == [gone.id, kept.id]
    assert ids(status="canceled") == [gone.id]
    assert ids(customer=bob.id, status="all") == [gone.id]
    assert ids(price=gold.id) == [kept.id]
    assert ids(status="all", limit=1, starting_after=gone.id) == [kept.id]


def test_zero_decimal_currency_amounts_are_whole_yen(b: Billing) -> None:
    price = b.price(1200, currency="jpy")
    sub = b.subscribe(b.customer().id, price.id, quantity=2, expand=["latest_invoice"])
    assert (sub.currency, sub.latest_invoice.total) == ("jpy", 2400)
    assert sub.latest_invoice.lines.data[0].description.endswith("(at ¥1200 / month)")


# -- time: trials, renewals, failed payments --------------------------------------------------


def test_trial_then_first_paid_period(b: Billing) -> None:
    price, customer = b.price(1500), b.customer()
    sub = b.subscribe(customer.id, price.id, trial_period_days=14, expand=["latest_invoice"])
    trial_end = START + 14 * DAY
    assert (
        sub.status,
        sub.trial_start,
        sub.trial_end,
        sub["items"].data[0].current_period_end,
    ) == (
        "trialing",
        START,
        trial_end,
        trial_end,
    )
    assert (sub.latest_invoice.total, sub.latest_invoice.status) == (0, "paid")
    assert sub.latest_invoice.lines.data[0].description == "Trial period for Gold"
    assert "charge.succeeded" not in b.types()
    since = b.mark()
    b.double.advance(12 * DAY)
    [notice] = b.double.events(b.account)[since:]
    assert (notice["type"], notice["created"]) == (
        "customer.subscription.trial_will_end",
        trial_end - 3 * DAY,
    )
    assert notice["request"] == {"id": None, "idempotency_key": None}
    since = b.mark()
    b.double.advance(3 * DAY)
    assert b.types(since) == [
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.updated",
    ]
    updated = b.double.events(b.account)[-1]
    assert updated["created"] == trial_end  # stamped when it was due, not when replayed
    assert updated["data"]["previous_attributes"]["status"] == "trialing"
    active = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice"]}, options=b.on
    )
    assert (
        active.status,
        active["items"].data[0].current_period_start,
        active.billing_cycle_anchor,
    ) == (
        "active",
        trial_end,
        trial_end,
    )
    assert (active.latest_invoice.billing_reason, active.latest_invoice.amount_paid) == (
        "subscription_cycle",
        1500,
    )


def test_a_failed_renewal_goes_past_due_and_a_retry_pays_it(b: Billing) -> None:
    price, customer = b.price(1500), b.customer()
    sub = b.subscribe(customer.id, price.id)
    b.double.fail_next_payment(b.account, customer.id)
    since = b.mark()
    b.double.advance(31 * DAY)
    assert b.types(since) == [
        "invoice.created",
        "invoice.finalized",
        "charge.failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    past_due = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice.payments.data.payment"]}, options=b.on
    )
    invoice = past_due.latest_invoice
    assert past_due.status == "past_due"
    assert (invoice.status, invoice.attempt_count, invoice.next_payment_attempt) == (
        "open",
        1,
        sub["items"].data[0].current_period_end + 3 * DAY,
    )
    [payment] = invoice.payments.data
    assert payment.status == "open"
    charge = b.api.v1.charges.retrieve(payment.payment.charge, options=b.on)
    assert (charge.status, charge.failure_code, charge.paid) == ("failed", "card_declined", False)
    assert charge.outcome.reason == "generic_decline"
    since = b.mark()
    b.double.advance(3 * DAY)
    assert b.types(since) == [
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.updated",
    ]
    assert b.api.v1.subscriptions.retrieve(sub.id, options=b.on).status == "active"


def test_when_every_retry_fails_the_subscription_is_canceled_or_unpaid(b: Billing) -> None:
    price = b.price(1500)

    def exhaust(email: str) -> tuple[Any, Any]:
        customer = b.customer(email)
        sub = b.subscribe(customer.id, price.id)
        b.double.fail_next_payment(b.account, customer.id, "insufficient_funds", times=4)
        b.double.advance(31 * DAY + 15 * DAY)  # the renewal, then retries on days 3, 8 and 15
        return customer, b.api.v1.subscriptions.retrieve(sub.id, options=b.on)

    _, canceled = exhaust("ada@example.com")  # Stripe's default: cancel the subscription
    assert (canceled.status, canceled.cancellation_details.reason) == ("canceled", "payment_failed")
    b.double.set_after_retries(b.account, "unpaid")
    bob, unpaid = exhaust("bob@example.com")
    assert unpaid.status == "unpaid"
    invoices = b.api.v1.invoices.list(params={"customer": bob.id, "status": "open"}, options=b.on)
    assert [(i.attempt_count, i.next_payment_attempt) for i in invoices.data] == [(4, None)]
    declined = b.api.v1.charges.list(params={"customer": bob.id, "limit": 1}, options=b.on).data[0]
    assert (declined.failure_message, declined.outcome.reason) == (
        "Your card has insufficient funds.",
        "insufficient_funds",
    )


def test_incomplete_when_the_first_payment_fails_then_expires(b: Billing) -> None:
    price, customer = b.price(1500), b.customer()
    b.double.fail_next_payment(b.account, customer.id)
    sub = b.subscribe(customer.id, price.id, expand=["latest_invoice"])
    assert (sub.status, sub.latest_invoice.status) == ("incomplete", "open")
    assert sub.latest_invoice.next_payment_attempt is None  # no retries for a first payment
    assert b.types()[-3:] == [
        "charge.failed",
        "invoice.payment_failed",
        "customer.subscription.created",
    ]
    b.double.advance(24 * 3600)
    expired = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice"]}, options=b.on
    )
    assert (expired.status, expired.latest_invoice.status) == ("incomplete_expired", "void")
    b.double.fail_next_payment(b.account, customer.id)
    with pytest.raises(stripe.CardError) as declined:
        b.subscribe(customer.id, price.id, payment_behavior="error_if_incomplete")
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"


def test_full_lifecycle_trial_upgrade_past_due_paid_canceled(b: Billing) -> None:
    basic, customer = b.price(1000), b.customer()
    pro = b.price(2500, product=basic.product)
    sub = b.subscribe(customer.id, basic.id, trial_end=START + 7 * DAY)
    assert sub.status == "trialing"
    b.double.advance(7 * DAY)
    assert b.api.v1.subscriptions.retrieve(sub.id, options=b.on).status == "active"
    item = sub["items"].data[0].id
    b.api.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item, "price": pro.id, "quantity": 2}]}, options=b.on
    )
    b.double.fail_next_payment(b.account, customer.id)
    b.double.advance(31 * DAY)
    due = b.api.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice"]}, options=b.on
    )
    assert (due.status, due.latest_invoice.total, due.latest_invoice.status) == (
        "past_due",
        5000,
        "open",
    )
    paid = b.api.v1.invoices.pay(due.latest_invoice.id, options=b.on)
    assert (paid.status, paid.attempt_count, paid.status_transitions.paid_at) == (
        "paid",
        2,
        b.double.now(),
    )
    assert b.api.v1.subscriptions.retrieve(sub.id, options=b.on).status == "active"
    b.api.v1.subscriptions.cancel(sub.id, options=b.on)
    subscription_events = [t for t in b.types() if t.startswith("customer.subscription.")]
    assert subscription_events == [
        "customer.subscription.created",  # trialing
        "customer.subscription.trial_will_end",  # three days before its end
        "customer.subscription.updated",  # trial over: active
        "customer.subscription.updated",  # upgraded
        "customer.subscription.updated",  # renewal failed: past_due
        "customer.subscription.updated",  # paid: active
        "customer.subscription.deleted",
    ]
    statuses = [
        (e["data"]["object"]["status"], e["data"].get("previous_attributes", {}).get("status"))
        for e in b.double.events(b.account)
        if e["type"].startswith("customer.subscription.")
    ]
    assert statuses == [
        ("trialing", None),
        ("trialing", None),
        ("active", "trialing"),
        ("active", None),
        ("past_due", "active"),  # the renewal's one event: period and status changed together
        ("active", "past_due"),
        ("canceled", None),
    ]
    updates = [
        e for e in b.double.events(b.account) if e["type"] == "customer.subscription.updated"
    ]
    renewal = updates[2]["data"]["previous_attributes"]
    assert {"items", "latest_invoice"} <= set(renewal)  # the period moved on the items


# -- one-off invoices ----------------------------------------------------------------------------


def test_one_off_invoice_from_pending_items(b: Billing) -> None:
    customer, price = b.customer(), b.price(700, interval=None)
    b.api.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": 2000,
            "currency": "usd",
            "description": "Setup fee",
        },
        options=b.on,
    )
    b.api.v1.invoice_items.create(
        params={"customer": customer.id, "price": price.id, "quantity": 3}, options=b.on
    )
    empty = b.api.v1.invoices.create(params={"customer": customer.id}, options=b.on)
    assert empty.lines.data == []  # Stripe's default since 2022-08-01: pending items excluded
    b.api.v1.invoices.delete(empty.id, options=b.on)
    invoice = b.api.v1.invoices.create(
        params={
            "customer": customer.id,
            "pending_invoice_items_behavior": "include",
            "metadata": {"order": "42"},
        },
        options=b.on,
    )
    assert re.fullmatch(r"in_[A-Za-z0-9]{24}", invoice.id)
    assert (invoice.status, invoice.parent, invoice.billing_reason) == ("draft", None, "manual")
    assert (invoice.total, invoice.amount_due, invoice.hosted_invoice_url) == (4100, 4100, None)
    assert [(x.parent.type, x.amount, x.description) for x in invoice.lines.data] == [
        ("invoice_item_details", 2000, "Setup fee"),
        ("invoice_item_details", 2100, "Gold"),
    ]
    assert invoice.lines.data[1].pricing.price_details.price == price.id
    final = b.api.v1.invoices.finalize_invoice(invoice.id, options=b.on)
    assert final.status == "open"
    assert re.fullmatch(
        rf"https://invoice\.stripe\.com/i/{b.account}/test_[A-Za-z0-9]{{40}}\?s=ap",
        final.hosted_invoice_url,
    )
    prefix = b.api.v1.customers.retrieve(customer.id, options=b.on).invoice_prefix
    assert final.number == f"{prefix}-0001"
    paid = b.api.v1.invoices.pay(invoice.id, options=b.on)
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 4100, 0)
    assert paid.status_transitions.to_dict() == {
        "finalized_at": START,
        "marked_uncollectible_at": None,
        "paid_at": START,
        "voided_at": None,
    }
    assert b.types()[-10:] == [
        "invoiceitem.created",
        "invoiceitem.created",
        "invoice.created",
        "invoice.deleted",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
    ]
    assert b.api.v1.invoices.retrieve(invoice.id, options=b.on).metadata.to_dict() == {
        "order": "42"
    }
    again = refused(lambda: b.api.v1.invoices.pay(invoice.id, options=b.on))
    assert again["message"] == "Invoice is already paid"


def test_a_declined_invoice_payment_is_a_card_error_and_leaves_events(b: Billing) -> None:
    customer = b.customer()
    b.double.create_invoice(
        b.account, customer.id, items=[{"amount": 2000, "currency": "usd", "description": "x"}]
    )
    [invoice] = b.double.objects(b.account, "invoice")
    with pytest.raises(stripe.CardError) as declined:
        b.api.v1.invoices.pay(
            invoice["id"], params={"payment_method": "pm_card_chargeCustomerFail"}, options=b.on
        )
    assert declined.value.http_status == 402
    error = declined.value.json_body["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["charge"].startswith("ch_")
    assert b.types()[-2:] == ["charge.failed", "invoice.payment_failed"]
    voided = b.api.v1.invoices.void_invoice(invoice["id"], options=b.on)
    assert (voided.status, voided.status_transitions.voided_at) == ("void", START)
    assert b.types()[-1] == "invoice.voided"
    other = b.double.create_invoice(
        b.account, customer.id, items=[{"amount": 500, "currency": "usd"}]
    )
    b.api.v1.invoices.finalize_invoice(other["id"], options=b.on)
    lost = b.api.v1.invoices.mark_uncollectible(other["id"], options=b.on)
    assert lost.status == "uncollectible"
    assert b.types()[-1] == "invoice.marked_uncollectible"
    by_status = b.api.v1.invoices.list(params={"status": "void"}, options=b.on)
    assert [i.id for i in by_status.data] == [invoice["id"]]
    draft_void = refused(
        lambda: b.api.v1.invoices.void_invoice(
            b.double.create_invoice(b.account, customer.id)["id"], options=b.on
        )
    )
    assert "open" in draft_void["message"]


# -- charges and refunds -------------------------------------------------------------------------


def test_charges_and_refunds(b: Billing) -> None:
    customer = b.customer()
    charge = b.double.create_charge(b.account, customer.id, 5000)
    assert re.fullmatch(r"ch_[A-Za-z0-9]{24}", charge["id"])
    assert (charge["status"], charge["paid"], charge["amount_captured"]) == (
        "succeeded",
        True,
        5000,
    )
    assert "refunds" not in charge  # only when expanded, as since API version 2022-11-15
    failed = b.double.create_charge(b.account, customer.id, 300, fail=True)
    assert (failed["status"], failed["failure_code"], failed["failure_message"]) == (
        "failed",
        "card_declined",
        "Your card was declined.",
    )
    since = b.mark()
    partial = b.api.v1.refunds.create(params={"charge": charge["id"], "amount": 1500}, options=b.on)
    assert re.fullmatch(r"re_[A-Za-z0-9]{24}", partial.id)
    assert (partial.amount, partial.charge, partial.status, partial.currency) == (
        1500,
        charge["id"],
        "succeeded",
        "usd",
    )
    assert b.types(since) == ["refund.created", "charge.refunded"]
    refunded = b.double.events(b.account)[-1]
    assert refunded["data"]["previous_attributes"] == {"amount_refunded": 0}
    too_much = refused(
        lambda: b.api.v1.refunds.create(
            params={"charge": charge["id"], "amount": 9000}, options=b.on
        )
    )
    assert too_much["message"] == (
        "Refund amount ($90.00) is greater than unrefunded amount on charge ($35.00)"
    )
    rest = b.double.refund_charge(b.account, charge["id"])
    assert rest["amount"] == 3500
    full = b.api.v1.charges.retrieve(charge["id"], params={"expand": ["refunds"]}, options=b.on)
    assert (full.amount_refunded, full.refunded) == (5000, True)
    assert [r.id for r in full.refunds.data] == [rest["id"], partial.id]
    again = refused(lambda: b.api.v1.refunds.create(params={"charge": charge["id"]}, options=b.on))
    assert again["code"] == "charge_already_refunded"
    mine = b.api.v1.charges.list(params={"customer": customer.id}, options=b.on)
    assert [c.id for c in mine.data] == [failed["id"], charge["id"]]
    listed = b.api.v1.refunds.list(params={"charge": charge["id"], "limit": 1}, options=b.on)
    assert ([r.id for r in listed.data], listed.has_more) == ([rest["id"]], True)
    with_charge = b.api.v1.refunds.retrieve(partial.id, params={"expand": ["charge"]}, options=b.on)
    assert with_charge.charge.customer == customer.id


# -- checkout ------------------------------------------------------------------------------------


def test_checkout_subscription_session_completes_with_a_new_customer(b: Billing) -> None:
    price = b.price(1500)
    session = b.api.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "success_url": "https://omniroo.test/ok",
            "customer_email": "new@example.com",
            "line_items": [{"price": price.id, "quantity": 2}],
            "subscription_data": {"metadata": {"source": "checkout"}},
        },
        options=b.on,
    )
    assert re.fullmatch(r"cs_test_[A-Za-z0-9]{58}", session.id)
    assert (session.status, session.payment_status, session.customer, session.amount_total) == (
        "open",
        "unpaid",
        None,
        3000,
    )
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.id}"
    assert "line_items" not in session.to_dict()
    items = b.api.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items"]}, options=b.on
    ).line_items
    assert [(i.price.id, i.quantity, i.amount_total) for i in items.data] == [(price.id, 2, 3000)]
    since = b.mark()
    done = b.double.complete_checkout_session(b.account, session.id, name="New Customer")
    assert b.types(since) == [
        "customer.created",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.created",
        "checkout.session.completed",
    ]
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    fetched = b.api.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "customer"]}, options=b.on
    )
    assert fetched.customer.email == "new@example.com"
    assert fetched.subscription.metadata.to_dict() == {"source": "checkout"}
    assert fetched.subscription["items"].data[0].quantity == 2
    assert fetched.invoice == fetched.subscription.latest_invoice
    assert fetched.customer_details.email == "new@example.com"
    listed = b.api.v1.checkout.sessions.list(params={"status": "complete"}, options=b.on)
    assert [s.id for s in listed.data] == [session.id]


def test_checkout_payment_session_charges_and_can_expire(b: Billing) -> None:
    customer, price = b.customer(), b.price(1500, interval=None)
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": "https://omniroo.test/ok",
        "customer": customer.id,
        "line_items": [{"price": price.id, "quantity": 2}],
    }
    session = b.api.v1.checkout.sessions.create(params=params, options=b.on)
    since = b.mark()
    b.double.complete_checkout_session(b.account, session.id)
    assert b.types(since) == ["charge.succeeded", "checkout.session.completed"]
    [charge] = b.api.v1.charges.list(params={"customer": customer.id}, options=b.on).data
    assert charge.amount == 3000
    invoiced = b.api.v1.checkout.sessions.create(
        params={**params, "invoice_creation": {"enabled": True}}, options=b.on
    )
    done = b.double.complete_checkout_session(b.account, invoiced.id)
    invoice = b.api.v1.invoices.retrieve(done["invoice"], options=b.on)
    assert (invoice.status, invoice.total) == ("paid", 3000)
    left = b.api.v1.checkout.sessions.create(params=params, options=b.on)
    expired = b.api.v1.checkout.sessions.expire(left.id, options=b.on)
    assert expired.status == "expired"
    assert b.types()[-1] == "checkout.session.expired"
    with pytest.raises(StripeError):
        b.double.complete_checkout_session(b.account, left.id)
    recurring = b.price(100)
    wrong = refused(
        lambda: b.api.v1.checkout.sessions.create(
            params={**params, "line_items": [{"price": recurring.id, "quantity": 1}]},
            options=b.on,
        )
    )
    assert wrong["param"] == "line_items[0][price]"


# -- accounts, idempotency, helpers --------------------------------------------------------------


def test_billing_objects_are_scoped_per_account(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    sub = b.subscribe(customer.id, price.id)
    other = b.double.add_account()
    missing = refused(
        lambda: b.api.v1.subscriptions.retrieve(sub.id, options={"stripe_account": other})
    )
    assert missing["code"] == "resource_missing"
    assert b.api.v1.prices.list(options={"stripe_account": other}).data == []
    assert b.api.v1.invoices.list().data == []  # the platform's own account


def test_an_idempotent_subscription_create_happens_once(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    options: dict[str, Any] = {**b.on, "idempotency_key": "sub-once"}
    params = {"customer": customer.id, "items": [{"price": price.id}]}
    first = b.api.v1.subscriptions.create(params=params, options=options)
    again = b.api.v1.subscriptions.create(params=params, options=options)
    assert again.id == first.id
    assert b.types().count("customer.subscription.created") == 1
    keys = {e["request"]["idempotency_key"] for e in b.double.events(b.account)[-6:]}
    assert keys == {"sub-once"}


def test_helpers_record_the_same_events_as_the_api(b: Billing) -> None:
    product = b.double.create_product(b.account, "Gold")
    price = b.double.create_price(b.account, product["id"], 1500, interval="year")
    coupon = b.double.create_coupon(b.account, percent_off=10, duration="forever")
    customer = b.double.create_customer(b.account, email="h@example.com")
    sub = b.double.create_subscription(
        b.account, customer["id"], [{"price": price["id"], "quantity": 1}], coupon=coupon["id"]
    )
    period_end = sub["items"]["data"][0]["current_period_end"]
    assert (sub["status"], period_end) == ("active", 1_731_622_400)  # a year on
    b.double.update_subscription(b.account, sub["id"], metadata={"k": "v"})
    b.double.cancel_subscription(b.account, sub["id"], at_period_end=True)
    assert b.types() == [
        "product.created",
        "price.created",
        "coupon.created",
        "customer.created",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.created",
        "customer.discount.created",
        "customer.subscription.updated",
        "customer.subscription.updated",
    ]
    [invoice] = b.double.objects(b.account, "invoice")
    assert invoice["total"] == 1350
    with pytest.raises(StripeError) as caught:
        b.double.create_subscription(b.account, "cus_nobody", [{"price": price["id"]}])
    assert caught.value.error["code"] == "resource_missing"


def test_unknown_billing_route_is_still_stripes_404(b: Billing) -> None:
    reply = requests.get(f"{b.double.base_url}/v1/prices/x/y", auth=(KEY, ""), timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"]["message"].startswith("Unrecognized request URL")


def test_ending_a_trial_now_and_pausing_collection(b: Billing) -> None:
    price, customer = b.price(1000), b.customer()
    sub = b.subscribe(customer.id, price.id, trial_period_days=30)
    b.clock.now += DAY
    since = b.mark()
    active = b.api.v1.subscriptions.update(
        sub.id, params={"trial_end": "now", "expand": ["latest_invoice"]}, options=b.on
    )
    assert (active.status, active.trial_end, active["items"].data[0].current_period_start) == (
        "active",
        START + DAY,
        START + DAY,
    )
    assert (active.latest_invoice.billing_reason, active.latest_invoice.amount_paid) == (
        "subscription_update",
        1000,
    )
    assert b.types(since)[-1] == "customer.subscription.updated"
    paused = b.api.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void"}}, options=b.on
    )
    assert paused.pause_collection.to_dict() == {"behavior": "void", "resumes_at": None}
    since = b.mark()
    b.double.advance(31 * DAY)
    assert b.types(since) == [
        "invoice.created",
        "invoice.finalized",
        "invoice.voided",  # nothing collected while paused
        "customer.subscription.updated",
    ]
    assert b.api.v1.subscriptions.retrieve(sub.id, options=b.on).status == "active"


def test_deleting_a_customer_ends_its_subscriptions(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    sub = b.subscribe(customer.id, price.id)
    since = b.mark()
    b.api.v1.customers.delete(customer.id, options=b.on)
    assert b.types(since) == ["customer.subscription.deleted", "customer.deleted"]
    ended = b.api.v1.subscriptions.list(params={"status": "ended"}, options=b.on)
    assert [s.id for s in ended.data] == [sub.id]


def test_sub_lists_and_dashboard_only_price_delete(b: Billing) -> None:
    price, customer = b.price(), b.customer()
    sub = b.subscribe(customer.id, price.id)
    lines = b.api.v1.invoices.line_items.list(sub.latest_invoice, options=b.on)
    assert (lines.url, len(lines.data)) == (f"/v1/invoices/{sub.latest_invoice}/lines", 1)
    session = b.api.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "success_url": "https://omniroo.test/ok",
            "line_items": [{"price": price.id, "quantity": 1}],
        },
        options=b.on,
    )
    items = b.api.v1.checkout.sessions.line_items.list(session.id, options=b.on)
    assert [i.object for i in items.data] == ["item"]
    with pytest.raises(StripeError) as used:
        b.double.delete_price(b.account, price.id)  # billed already
    assert used.value.status == 400
    unused = b.price(product=price.product)
    assert b.double.delete_price(b.account, unused.id)["deleted"] is True
    assert b.types()[-1] == "price.deleted"


def test_a_declined_payment_replays_under_its_idempotency_key(b: Billing) -> None:
    customer = b.customer()
    invoice = b.double.create_invoice(b.account, customer.id, items=[{"price": b.price(900).id}])
    b.double.fail_next_payment(b.account, customer.id)
    options: dict[str, Any] = {**b.on, "idempotency_key": "pay-once"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as declined:
            b.api.v1.invoices.pay(invoice["id"], options=options)
        errors.append(declined.value)
    assert errors[1].json_body == errors[0].json_body
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    assert b.types().count("charge.failed") == 1  # the retry charged nobody
    assert b.api.v1.invoices.pay(invoice["id"], options=b.on).status == "paid"


def test_held_still_defers_stripes_own_steps_to_the_end_of_the_block(b: Billing) -> None:
    product = b.double.create_product(b.account, "Bulk")
    price = b.double.create_price(b.account, product["id"], 900, interval="month")
    with b.double.held_still():
        customer = b.double.create_customer(b.account, email="bulk@example.com")
        b.double.create_subscription(b.account, customer["id"], [{"price": price["id"]}])
        since = len(b.types())
        b.double.advance(40 * DAY)  # moves the clock; the renewal waits for the block
        b.double.create_customer(b.account, email="later@example.com")
        assert "customer.subscription.updated" not in b.types(since)
    assert "customer.subscription.updated" in b.types(since)  # the renewal, once released
