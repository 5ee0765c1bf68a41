"""Property tests of the mapping and MRR functions on every object the pinned ``stripe`` library's
types allow (tests/stripe_objects.py), shaped as the push fetches them (shared/sync/collect.py
expands a subscription's items' prices, their tiers and discounts).

The one exception allowed is ``BillingDataError``: an object that lacks what the computation needs
(an unexpanded coupon, a price in another currency without ``currency_options``, a list with more
pages) is refused by name rather than guessed at. And money is never added across currencies.
"""

import inspect
from collections import defaultdict
from decimal import Decimal
from typing import Any

import stripe
from hypothesis import event, given, settings
from hypothesis import strategies as st

from shared.billing.metrics import PROPERTIES, contact_metrics
from shared.billing.mrr import (
    COUNTED,
    DEFAULT_SETTINGS,
    BillingDataError,
    BillingSettings,
    mrr_status,
    subscription_mrr,
)
from shared.mapping.company import company_for
from shared.mapping.customer import map_customer
from shared.mapping.invoice import invoice_plan
from shared.mapping.ops import Archive, FlagDeleted, Link, Prune, Skip, Upsert
from shared.mapping.product import product_op
from shared.mapping.subscription import subscription_plan
from shared.project_settings import ProjectSettings
from tests.stripe_objects import objects

ACCOUNT = "acct_1Fuzz"
NOW = st.integers(min_value=0, max_value=2**31 - 1)
# Full objects are large: a fraction of the profile's examples keeps ``make test`` quick (the
# "deep" profile still draws hundreds).
FEW = settings(max_examples=max(15, settings().max_examples // 3))
FEWER = settings(max_examples=max(10, settings().max_examples // 6))
SETTINGS = st.builds(
    ProjectSettings,
    customers_without_email=st.sampled_from(["sync", "skip"]),
    on_customer_deleted=st.sampled_from(["flag", "archive"]),
    trials_count_as_mrr=st.booleans(),
    company_matching=st.sampled_from(["off", "domain", "metadata", "domain_or_metadata"]),
)


def _listed(data: list[Any], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": "/v1/x"}


def _with(base: st.SearchStrategy[dict[str, Any]], **fields: Any) -> Any:
    return st.builds(lambda obj, extra: {**obj, **extra}, base, st.fixed_dictionaries(fields))


COUPONS = objects(stripe.Coupon)
# A discount as expanded: the coupon under ``source`` (this API version) or, as older objects
# had it, on the discount itself.
DISCOUNTS = st.builds(
    lambda d, coupon, legacy: (
        {**d, "coupon": coupon} if legacy else {**d, "source": {"type": "coupon", "coupon": coupon}}
    ),
    objects(stripe.Discount),
    COUPONS,
    st.booleans(),
)
PRICES = _with(
    objects(stripe.Price),
    product=st.one_of(objects(stripe.Product), st.just("prod_1")),
)
ITEMS = _with(
    objects(stripe.SubscriptionItem), price=PRICES, discounts=st.lists(DISCOUNTS, max_size=1)
)
SUBSCRIPTIONS = _with(
    objects(stripe.Subscription),
    items=st.builds(_listed, st.lists(ITEMS, max_size=2), st.booleans()),
    discounts=st.lists(DISCOUNTS, max_size=2),
)


@st.composite
def priced_subscriptions(draw: st.DrawFn) -> dict[str, Any]:
    """A subscription MRR can price, as Stripe keeps a live one: a counting status, not ended or
    paused, every item a licensed per-unit price in the subscription's currency and period."""
    sub = draw(SUBSCRIPTIONS)
    currency = sub["currency"]
    recurring = {
        "interval": draw(st.sampled_from(["day", "week", "month", "year"])),
        "interval_count": draw(st.integers(min_value=1, max_value=3)),
        "usage_type": "licensed",
    }
    items = [
        {
            **item,
            "quantity": draw(st.integers(min_value=0, max_value=100)),
            "discounts": [],
            "price": {
                **item["price"],
                "currency": currency,
                "billing_scheme": "per_unit",
                "unit_amount": draw(st.integers(min_value=0, max_value=10**7)),
                "unit_amount_decimal": None,
                "transform_quantity": None,
                "recurring": {**(item["price"]["recurring"] or {}), **recurring},
            },
        }
        for item in sub["items"]["data"]
    ]
    return {
        **sub,
        "items": _listed(items, False),
        "discounts": [],
        "status": draw(st.sampled_from(["active", "past_due", "trialing"])),
        "cancel_at": None,
        "ended_at": None,
        "pause_collection": None,
    }


CUSTOMERS = st.one_of(
    objects(stripe.Customer),
    st.builds(lambda i: {"id": i, "object": "customer", "deleted": True}, st.just("cus_gone")),
)
CHARGES = objects(stripe.Charge)
INVOICES = objects(stripe.Invoice)
# For a customer's whole picture, the lists' objects one level less deep (their nested details do
# not feed the metrics), so that an example stays within Hypothesis's size limit.
LISTED_CUSTOMERS = objects(stripe.Customer, 1)
LISTED_CHARGES = objects(stripe.Charge, 1)
LISTED_INVOICES = objects(stripe.Invoice, 1)


@settings(max_examples=5)
@given(sub=objects(stripe.Subscription))
def test_the_strategies_draw_every_field_the_library_declares(sub: dict[str, Any]) -> None:
    declared = {n for n in inspect.get_annotations(stripe.Subscription) if n != "OBJECT_NAME"}
    assert set(sub) == declared
    assert sub["object"] == "subscription" and sub["id"].startswith("sub")


def or_billing_error(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except BillingDataError as exc:
        assert str(exc)  # it names what is missing
        return None


@FEW
@given(customer=CUSTOMERS, project=SETTINGS)
def test_a_customer_of_any_shape_maps(customer: dict[str, Any], project: ProjectSettings) -> None:
    op = map_customer(customer, ACCOUNT, project)
    assert isinstance(op, Upsert | FlagDeleted | Archive | Skip)
    if isinstance(op, Upsert):
        assert all(isinstance(v, str) for v in op.properties.values())
    company = company_for(customer, project)
    assert company is None or all(isinstance(v, str) for v in company.properties.values())


@FEW
@given(sub=SUBSCRIPTIONS, now=NOW, trials=st.booleans())
def test_subscription_mrr_is_in_the_subscription_currency_or_refused(
    sub: dict[str, Any], now: int, trials: bool
) -> None:
    mrr = or_billing_error(subscription_mrr, sub, now, BillingSettings(trials))
    if mrr is None:
        return
    assert mrr.currency == str(sub["currency"]).upper()
    assert mrr.monthly >= 0 and mrr.per_period >= 0
    assert mrr.counted or mrr.monthly == 0


def check_currencies(
    metrics: dict[str, str], customer: dict[str, Any], subs: list[dict[str, Any]], now: int
) -> int:
    """Each currency's MRR is the sum of that currency's counted subscriptions only (each id
    once), shown as one number when it is the contact's only currency, else broken down."""
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for sub in {s["id"]: s for s in subs}.values():
        if mrr_status(sub, now, DEFAULT_SETTINGS) == COUNTED:
            mrr = subscription_mrr(sub, now, DEFAULT_SETTINGS, customer.get("discount"))
            per_currency[mrr.currency] += mrr.monthly
    currency = metrics["stripe_currency"]
    if metrics["stripe_mrr"]:
        assert set(per_currency) <= {currency}
        assert Decimal(metrics["stripe_mrr"]) == per_currency.get(currency, Decimal(0))
        assert metrics["stripe_mrr_breakdown"] == ""
    else:
        shown = dict(
            entry.split(" ") for entry in metrics["stripe_mrr_breakdown"].split("; ") if entry
        )
        assert {code: Decimal(amount) for code, amount in shown.items()} == dict(per_currency)
        assert len(per_currency) > 1
    return len(per_currency)


@FEWER
@given(
    customer=LISTED_CUSTOMERS,
    subs=st.lists(SUBSCRIPTIONS, max_size=2),
    charges=st.lists(LISTED_CHARGES, max_size=2),
    invoices=st.lists(LISTED_INVOICES, max_size=2),
    now=NOW,
)
def test_contact_metrics_of_any_shapes_are_strings_or_refused(
    customer: dict[str, Any],
    subs: list[dict[str, Any]],
    charges: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    now: int,
) -> None:
    metrics = or_billing_error(contact_metrics, customer, subs, charges, invoices, now)
    if metrics is None:
        return
    assert set(metrics) == set(PROPERTIES)
    assert all(isinstance(v, str) for v in metrics.values())
    check_currencies(metrics, customer, subs, now)


@FEWER
@given(
    customer=LISTED_CUSTOMERS,
    subs=st.lists(priced_subscriptions(), min_size=1, max_size=3),
    now=NOW,
)
def test_mrr_is_never_added_across_currencies(
    customer: dict[str, Any], subs: list[dict[str, Any]], now: int
) -> None:
    customer = {**customer, "discount": None}  # its own discounts are tested above
    metrics = contact_metrics(customer, subs, [], [], now)
    event(f"MRR in {check_currencies(metrics, customer, subs, now)} currencies")


@FEW
@given(sub=SUBSCRIPTIONS, customer=CUSTOMERS, project=SETTINGS, now=NOW)
def test_a_subscription_becomes_a_deal_in_its_own_currency(
    sub: dict[str, Any], customer: dict[str, Any], project: ProjectSettings, now: int
) -> None:
    ops = or_billing_error(subscription_plan, sub, customer, ACCOUNT, project, now)
    if ops is None:
        return
    deal = ops[0]
    assert isinstance(deal, Upsert) and deal.id == sub["id"]
    assert deal.properties["deal_currency_code"] == str(sub["currency"]).upper()
    assert all(isinstance(op, Upsert | Prune | Link) for op in ops)
    assert all(
        isinstance(v, str) for op in ops if isinstance(op, Upsert) for v in op.properties.values()
    )


@FEW
@given(invoice=INVOICES, customer=CUSTOMERS)
def test_an_invoice_of_any_shape_plans(invoice: dict[str, Any], customer: dict[str, Any]) -> None:
    ops = invoice_plan(invoice, customer, ACCOUNT)
    assert all(
        isinstance(v, str) for op in ops if isinstance(op, Upsert) for v in op.properties.values()
    )


@FEW
@given(price=PRICES)
def test_a_price_of_any_shape_becomes_a_product(price: dict[str, Any]) -> None:
    op = product_op(price)
    assert isinstance(op, Upsert | Archive)
    if isinstance(op, Upsert):
        assert all(isinstance(v, str) for v in op.properties.values())
