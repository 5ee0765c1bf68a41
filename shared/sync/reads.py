"""Reading a customer's billing from Stripe, complete, in the API version Omniroo pins.

Everything MRR, lifetime value and the deals need, in as few calls as Stripe allows: the customer
with its own discount's coupon expanded, its subscriptions with their discounts' coupons, the
tiers of tiered prices, its charges, the disputes of disputed charges, and its newest invoices.

API version 2026-10-28.endive (shared/stripe_version.py) shapes what is read: a discount's coupon
is ``source.coupon``, an id unless expanded (2025-09-30.clover); billing periods are on the
subscription items; a charge no longer names a dispute or an invoice. Stripe expands at most four
levels (https://docs.stripe.com/expand#limits), so what sits deeper (an item discount's coupon on
a listed subscription, a listed price's tiers) is read once per distinct coupon or price.
"""

from dataclasses import dataclass, field
from typing import Any

from shared.project_settings import ProjectSettings
from shared.stripe_gateway import StripeReads

StripeObject = dict[str, Any]

CUSTOMER_EXPAND = ("discount.source.coupon",)
# What MRR and the deal need expanded on one subscription (each path at most four levels).
SUBSCRIPTION_EXPAND = (
    "items.data.price.product",
    "items.data.price.tiers",
    "items.data.discounts",
    "latest_invoice",
    "discounts.source.coupon",
)
# The same on a list, one level deeper: item discounts come as objects, their coupons as ids.
SUBSCRIPTION_LIST_EXPAND = ("data.discounts.source.coupon", "data.items.data.discounts")


@dataclass(frozen=True)
class Source:
    stripe: StripeReads
    account: str
    settings: ProjectSettings
    now: float


@dataclass
class Billing:
    """What one customer has in Stripe, as of now."""

    customer: StripeObject
    subscriptions: list[StripeObject] = field(default_factory=list)
    charges: list[StripeObject] = field(default_factory=list)
    disputes: list[StripeObject] = field(default_factory=list)
    invoices: list[StripeObject] = field(default_factory=list)


def customer(src: Source, customer_id: str) -> StripeObject:
    """The customer, its own discount's coupon expanded (a deleted one: ``deleted: true``)."""
    return src.stripe.fetch("customer", customer_id, src.account, CUSTOMER_EXPAND)


def billing(src: Source, found: StripeObject) -> Billing:
    """The customer's subscriptions of every status, charges (when payments sync), the disputes
    of its disputed charges, and its newest invoices."""
    customer_id = str(found["id"])
    subs = src.stripe.list(
        "subscription",
        src.account,
        {"customer": customer_id, "status": "all", "expand": list(SUBSCRIPTION_LIST_EXPAND)},
    )
    subs = with_coupons(src, with_tiers(src, subs))
    charges = (
        src.stripe.list("charge", src.account, {"customer": customer_id})
        if src.settings.syncs("payments")
        else []
    )
    disputes = [
        dispute
        for charge in charges
        if charge.get("disputed")
        for dispute in src.stripe.list("dispute", src.account, {"charge": charge["id"]})
    ]
    # The newest page is enough for last payment status and delinquency.
    invoices = src.stripe.list("invoice", src.account, {"customer": customer_id}, pages=1)
    return Billing(found, subs, charges, disputes, invoices)


def subscription(src: Source, subscription_id: str) -> StripeObject:
    """One subscription with what its deal and MRR need."""
    found = src.stripe.fetch("subscription", subscription_id, src.account, SUBSCRIPTION_EXPAND)
    return with_coupons(src, [found])[0]


def with_tiers(src: Source, subs: list[StripeObject]) -> list[StripeObject]:
    """Tiers of tiered prices, which a subscription list cannot expand (too deep): one read per
    distinct tiered price."""
    tiered: dict[str, StripeObject] = {}
    for sub in subs:
        for item in (sub.get("items") or {}).get("data") or []:
            price = item.get("price") or {}
            if price.get("billing_scheme") == "tiered" and price.get("tiers") is None:
                if price["id"] not in tiered:
                    tiered[price["id"]] = src.stripe.fetch(
                        "price", price["id"], src.account, ("tiers",)
                    )
                item["price"] = tiered[price["id"]]
    return subs


def with_coupons(src: Source, subs: list[StripeObject]) -> list[StripeObject]:
    """The coupon of every discount of the subscriptions and their items, where an expansion
    could not reach it: one read per distinct coupon (Stripe has no way to read a discount)."""
    coupons: dict[str, StripeObject] = {}
    for sub in subs:
        items = (sub.get("items") or {}).get("data") or []
        owners = [sub, *items]
        for discount in (d for owner in owners for d in owner.get("discounts") or []):
            source = discount.get("source") if isinstance(discount, dict) else None
            coupon = source.get("coupon") if isinstance(source, dict) else None
            if isinstance(source, dict) and isinstance(coupon, str):
                if coupon not in coupons:
                    coupons[coupon] = src.stripe.fetch("coupon", coupon, src.account)
                source["coupon"] = coupons[coupon]
    return subs
