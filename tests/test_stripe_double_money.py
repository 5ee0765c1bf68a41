"""What the Stripe double does with discounts, captures, disputes, credit notes and invoice
payments, through the real ``stripe`` library (the shapes themselves are held to the pinned
library's types in tests/contract/test_stripe_double_shapes.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from doubles.stripe import StripeDouble

DAY = 86_400


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def double() -> Iterator[StripeDouble]:
    with StripeDouble(clock=Clock()) as found:
        yield found


@pytest.fixture
def api(double: StripeDouble) -> stripe.StripeClient:
    return stripe.StripeClient(
        double.platform_key, base_addresses={"api": double.base_url}, max_network_retries=0
    )


def types(double: StripeDouble, account: str, since: int = 0) -> list[str]:
    return [e["type"] for e in double.events(account)[since:]]


def monthly(double: StripeDouble, account: str, amount: int = 1000) -> str:
    product = double.create_product(account, "Plan")["id"]
    return str(double.create_price(account, product, amount, "usd", "month")["id"])


def test_a_customer_discount_prices_subscriptions_without_their_own(
    double: StripeDouble, api: stripe.StripeClient
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="d@example.com")["id"]
    coupon = double.create_coupon(a, percent_off=25, duration="forever")["id"]
    since = len(double.events(a))
    discount = double.add_customer_discount(a, customer, coupon)
    assert types(double, a, since) == ["customer.discount.created", "customer.updated"]
    assert (discount["customer"], discount["subscription"], discount["source"]) == (
        customer,
        None,
        {"coupon": coupon, "type": "coupon"},
    )
    on = {"stripe_account": a}
    read = api.v1.customers.retrieve(customer, {"expand": ["discount.source.coupon"]}, on)
    assert read.discount.source.coupon.percent_off == 25
    price = monthly(double, a)
    plain = double.create_subscription(a, customer, [{"price": price, "quantity": 2}])
    own = double.create_coupon(a, amount_off=100, currency="usd", duration="forever")["id"]
    discounted = double.create_subscription(
        a, customer, [{"price": price, "quantity": 2}], coupon=own
    )
    totals = {i["id"]: i["total"] for i in double.objects(a, "invoice")}
    assert totals[plain["latest_invoice"]] == 1500  # 2 x 10.00 at 25% off
    assert totals[discounted["latest_invoice"]] == 1900  # its own 1.00 off, not the customer's
    deleted = api.v1.customers.delete_discount(customer, options=on)
    assert (deleted.id, deleted.deleted) == (discount["id"], True)
    assert api.v1.customers.retrieve(customer, options=on).discount is None
    assert types(double, a)[-2:] == ["customer.discount.deleted", "customer.updated"]


def test_an_item_discount_takes_only_its_own_line_and_a_once_discount_ends(
    double: StripeDouble,
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="i@example.com")["id"]
    once = double.create_coupon(a, percent_off=50, duration="once")["id"]
    sub = double.create_subscription(
        a,
        customer,
        [
            {"price": monthly(double, a), "quantity": 1, "discounts": [{"coupon": once}]},
            {"price": monthly(double, a, 500), "quantity": 1},
        ],
    )
    first, second = sub["items"]["data"]
    assert len(first["discounts"]) == 1 and second["discounts"] == []
    [invoice] = double.objects(a, "invoice")
    assert (invoice["subtotal"], invoice["total"]) == (1500, 1000)
    own, other = invoice["lines"]["data"]
    assert (own["discounts"], other["discount_amounts"]) == (first["discounts"], [])
    assert invoice["discounts"] == []  # an item's discount is its line's, not the invoice's
    double.advance(31 * DAY)
    renewal = double.objects(a, "invoice")[-1]
    assert (renewal["billing_reason"], renewal["total"]) == ("subscription_cycle", 1500)
    assert "customer.discount.deleted" in types(double, a)


def test_an_authorisation_is_captured_later_and_the_rest_refunded(
    double: StripeDouble, api: stripe.StripeClient
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="c@example.com")["id"]
    held = double.create_charge(a, customer, 5000, capture=False)
    assert (held["status"], held["captured"], held["amount_captured"]) == ("succeeded", False, 0)
    since = len(double.events(a))
    captured = api.v1.charges.capture(held["id"], {"amount": 3000}, {"stripe_account": a})
    assert (captured.captured, captured.amount_captured, captured.amount_refunded) == (
        True,
        3000,
        2000,
    )
    assert types(double, a, since) == ["refund.created", "charge.refunded", "charge.captured"]
    with pytest.raises(stripe.InvalidRequestError, match="already been captured"):
        api.v1.charges.capture(held["id"], options={"stripe_account": a})


def test_a_dispute_opens_on_a_charge_and_closes_lost_when_accepted(
    double: StripeDouble, api: stripe.StripeClient
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="p@example.com")["id"]
    charge = double.create_charge(a, customer, 4000)
    dispute = double.dispute_charge(a, charge["id"], "fraudulent")
    on = {"stripe_account": a}
    assert api.v1.charges.retrieve(charge["id"], options=on).disputed is True
    listed = api.v1.disputes.list({"charge": charge["id"]}, on).data
    assert [(d.id, d.status, d.amount) for d in listed] == [(dispute["id"], "needs_response", 4000)]
    closed = api.v1.disputes.close(dispute["id"], options=on)
    assert closed.status == "lost"
    assert types(double, a)[-2:] == ["charge.dispute.created", "charge.dispute.closed"]
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        api.v1.disputes.close(dispute["id"], options=on)
    won = double.dispute_charge(a, double.create_charge(a, customer, 1000)["id"])
    double.settle_dispute(a, won["id"], "won")
    assert types(double, a)[-2:] == ["charge.dispute.closed", "charge.dispute.funds_reinstated"]


def invoice_of(double: StripeDouble, a: str, customer: str, pay: bool) -> dict[str, Any]:
    made = double.create_invoice(a, customer, items=[{"amount": 10_000, "currency": "usd"}])
    double.finalize_invoice(a, made["id"])
    return dict(double.pay_invoice(a, made["id"]) if pay else double.objects(a, "invoice")[-1])


def test_a_credit_note_after_payment_refunds_and_one_before_lowers_what_is_due(
    double: StripeDouble, api: stripe.StripeClient
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="n@example.com")["id"]
    on = {"stripe_account": a}
    paid = invoice_of(double, a, customer, pay=True)
    note = api.v1.credit_notes.create(
        {"invoice": paid["id"], "amount": 2500, "refund_amount": 2500}, on
    )
    assert (note.type, note.amount, note.status) == ("post_payment", 2500, "issued")
    [refund] = note.refunds
    assert refund.amount_refunded == 2500
    after = api.v1.invoices.retrieve(paid["id"], {"expand": ["payments.data.payment.charge"]}, on)
    assert after.post_payment_credit_notes_amount == 2500
    assert after.payments.data[0].payment.charge.amount_refunded == 2500
    with pytest.raises(stripe.InvalidRequestError, match="cannot be voided"):
        api.v1.credit_notes.void_credit_note(note.id, options=on)
    open_one = invoice_of(double, a, customer, pay=False)
    pre = api.v1.credit_notes.create({"invoice": open_one["id"], "amount": 4000}, on)
    assert pre.type == "pre_payment"
    assert api.v1.invoices.retrieve(open_one["id"], options=on).amount_due == 6000
    api.v1.credit_notes.void_credit_note(pre.id, options=on)
    assert api.v1.invoices.retrieve(open_one["id"], options=on).amount_due == 10_000
    assert [n.status for n in api.v1.credit_notes.list({"customer": customer}, on).data] == [
        "void",
        "issued",
    ]
    assert types(double, a).count("credit_note.created") == 2
    assert types(double, a)[-1] == "credit_note.voided"


def test_an_invoice_lists_its_payments_only_when_asked(
    double: StripeDouble, api: stripe.StripeClient
) -> None:
    a = double.add_account()
    customer = double.create_customer(a, email="q@example.com")["id"]
    paid = invoice_of(double, a, customer, pay=True)
    on = {"stripe_account": a}
    assert "payments" not in api.v1.invoices.retrieve(paid["id"], options=on).to_dict()
    [payment] = api.v1.invoice_payments.list({"invoice": paid["id"]}, on).data
    assert (payment.status, payment.amount_paid, payment.payment.type) == ("paid", 10_000, "charge")
    assert api.v1.invoice_payments.retrieve(payment.id, options=on).invoice == paid["id"]
