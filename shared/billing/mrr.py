"""MRR and recurring amount of one Stripe subscription (SYNC.md, the MRR paragraph).

Amounts are kept exact (fractions of minor units) and rounded once, at the end, to the currency's
minor unit (ROUND_HALF_UP), so a yearly price and its monthly twelfth never drift apart.

Pricing: each licensed item is priced for its quantity (tiers, ``transform_quantity``, the price's
``currency_options`` amount when the subscription is in another currency), less its own item
discounts; the items' sum per billing period then gets the subscription's discounts, one after the
other, each on what the previous left, never below 0. A subscription with no discount of its own
inherits the customer's, as Stripe does. What is not expanded is an error, never a guess.
Objects are read as API version 2026-10-28.endive shapes them (shared/stripe_version.py): a
discount's coupon is ``source.coupon``, a subscription's discounts are its ``discounts`` list.

Which subscriptions count toward MRR, by status:
- ``active``, ``past_due`` (the money is owed and still being collected): counted;
- ``trialing``: 0 unless the project counts trials (``trials_count_as_mrr``);
- ``canceled``, ``incomplete_expired``: 0, they are over;
- ``incomplete``: 0, the first payment has not gone through (Stripe expires it after 23 hours);
- ``unpaid``: 0, Stripe has given up retrying and no longer collects it (the contact is
  flagged delinquent instead);
- ``paused``, or payment collection paused (``pause_collection``): 0, nothing is being collected;
- a counted status whose ``ended_at`` or ``cancel_at`` is already past: 0 (the object is stale).
``cancel_at_period_end`` alone changes nothing: the subscription counts until it ends.

``per_period`` (the deal ``amount``) is the price of the subscription whatever its status, so a
trial or lost deal still shows what it is worth.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any

from shared.billing.money import hubspot_currency, to_units
from shared.errors import OmnirooError

StripeObject = dict[str, Any]

# How many months one interval lasts; a price per `interval_count` intervals is divided by
# MONTHS * interval_count (SYNC.md: year / 12, week * 52 / 12, day * 365 / 12).
MONTHS = {
    "month": Fraction(1),
    "year": Fraction(12),
    "week": Fraction(12, 52),
    "day": Fraction(12, 365),
}

COUNTING_STATUSES = frozenset({"active", "past_due", "trialing"})
NOT_COUNTED = frozenset({"canceled", "incomplete", "incomplete_expired", "unpaid", "paused"})
COUNTED = "counted"


class BillingDataError(OmnirooError):
    """A Stripe object lacks what the computation needs (usually an unexpanded field).

    The message names the Stripe object id and what to expand; it never holds customer data.
    Raised rather than guessing, because a silently wrong MRR is worse than a visible failure.
    """


@dataclass(frozen=True)
class BillingSettings:
    trials_count_as_mrr: bool = False


DEFAULT_SETTINGS = BillingSettings()


@dataclass(frozen=True)
class SubscriptionMrr:
    subscription_id: str
    currency: str  # ISO code, uppercase ("USD")
    monthly: Decimal  # MRR in currency units; 0 when not counted
    per_period: Decimal  # recurring amount per billing period after discounts, any status
    interval: str  # the subscription's billing period: `interval_count` x `interval`
    interval_count: int
    metered_items: tuple[str, ...]  # ids of subscription items left out because they are metered
    counted: bool
    reason: str  # "counted", or why not: a status name, "ended", "collection_paused", ...


def months_per_period(recurring: StripeObject) -> Fraction:
    interval = recurring.get("interval", "month")
    if interval not in MONTHS:
        raise BillingDataError(f"unknown recurring interval {interval!r}")
    return MONTHS[interval] * int(recurring.get("interval_count") or 1)


def _amount(obj: StripeObject, field: str) -> Fraction | None:
    """``<field>_decimal`` (sub-minor-unit precision) when present, else the integer field."""
    decimal = obj.get(f"{field}_decimal")
    if decimal is not None:
        return Fraction(str(decimal))
    value = obj.get(field)
    return None if value is None else Fraction(value)


def _in_currency(price: StripeObject, currency: str) -> StripeObject:
    """The price as charged in `currency`: a multi-currency price keeps per-currency amounts."""
    if price.get("currency", currency) == currency:
        return price
    options = price.get("currency_options")
    if options is None:
        expand = "expand items.data.price.currency_options"
        raise BillingDataError(f"price {price.get('id')} is not in {currency}: {expand}")
    if currency not in options:
        raise BillingDataError(f"price {price.get('id')} has no amount in {currency}")
    return {**price, **options[currency]}


def _tiered_amount(price: StripeObject, quantity: int) -> Fraction:
    tiers = price.get("tiers")
    if tiers is None:
        raise BillingDataError(f"price {price.get('id')} is tiered: expand items.data.price.tiers")
    if quantity <= 0:
        return Fraction(0)  # no tier is touched, so no flat amount either
    mode = price.get("tiers_mode")
    if mode == "volume":
        for tier in tiers:
            if tier.get("up_to") is None or quantity <= tier["up_to"]:
                unit = _amount(tier, "unit_amount") or Fraction(0)
                return quantity * unit + (_amount(tier, "flat_amount") or 0)
        raise BillingDataError(f"price {price.get('id')}: quantity above its last tier")
    if mode == "graduated":
        total, lower = Fraction(0), 0
        for tier in tiers:
            upper = tier.get("up_to")
            in_tier = quantity - lower if upper is None else min(quantity, upper) - lower
            if in_tier <= 0:
                break
            unit = _amount(tier, "unit_amount") or Fraction(0)
            total += in_tier * unit + (_amount(tier, "flat_amount") or 0)
            if upper is None:
                break
            lower = upper
        return total
    raise BillingDataError(f"price {price.get('id')}: unknown tiers_mode {mode!r}")


def price_amount(price: StripeObject, quantity: int) -> Fraction:
    """What `quantity` units of a licensed price cost per billing period, in minor units."""
    if price.get("billing_scheme") == "tiered":
        return _tiered_amount(price, quantity)
    unit = _amount(price, "unit_amount")
    if unit is None:
        raise BillingDataError(f"price {price.get('id')} has no unit amount")
    transform = price.get("transform_quantity")
    if transform:
        divided = Fraction(quantity, int(transform["divide_by"]))
        quantity = ceil(divided) if transform.get("round") == "up" else floor(divided)
    return quantity * unit


def coupon_of(discount: StripeObject) -> StripeObject:
    """The coupon a discount redeemed: ``discount.source.coupon``, an id unless expanded (API
    version 2025-09-30.clover and later, https://docs.stripe.com/changelog/clover/2025-09-30/
    add-discount-source-property); readers expand ``source.coupon`` or fetch the coupon."""
    coupon = (discount.get("source") or {}).get("coupon")
    if isinstance(coupon, str):
        raise BillingDataError(f"discount {discount.get('id')}: expand its coupon ({coupon})")
    if not coupon:
        raise BillingDataError(f"discount {discount.get('id')} has no coupon")
    return dict(coupon)


def discount_is_running(discount: StripeObject, now: float) -> bool:
    """``forever`` always; ``repeating`` while ``now < end``; ``once`` never (not recurring)."""
    duration = coupon_of(discount).get("duration")
    if duration == "forever":
        return True
    if duration == "repeating":
        end = discount.get("end")
        return end is None or now < end
    return False


def _amount_off(coupon: StripeObject, currency: str) -> Fraction:
    if coupon.get("currency") == currency:
        return Fraction(coupon["amount_off"])
    option = (coupon.get("currency_options") or {}).get(currency)
    if option is None:
        raise BillingDataError(f"coupon {coupon.get('id')} has no amount_off in {currency}")
    return Fraction(option["amount_off"])


def apply_discounts(
    amount: Fraction, discounts: list[StripeObject], currency: str, now: float
) -> Fraction:
    """Running discounts one after another, each on what the previous ones left, never below 0."""
    for discount in discounts:
        if not discount_is_running(discount, now):
            continue
        coupon = coupon_of(discount)
        if coupon.get("percent_off") is not None:
            amount -= amount * Fraction(str(coupon["percent_off"])) / 100
        elif coupon.get("amount_off") is not None:
            amount -= _amount_off(coupon, currency)
        amount = max(amount, Fraction(0))
    return amount


def _expanded(entries: list[Any], owner: str) -> list[StripeObject]:
    """Discount objects for a ``discounts`` list, whose entries are bare ids unless expanded."""
    for entry in entries:
        if isinstance(entry, str):
            raise BillingDataError(f"{owner}: expand discounts ({entry})")
    return list(entries)


def subscription_discounts(
    subscription: StripeObject, customer_discount: StripeObject | None = None
) -> list[StripeObject]:
    """The subscription's discounts (its ``discounts`` list), in Stripe's order; one without any
    of its own has the customer's discount, as Stripe applies it when it invoices."""
    found = _expanded(subscription.get("discounts") or [], str(subscription.get("id")))
    if not found and customer_discount:
        found = [customer_discount]
    return found


def mrr_status(subscription: StripeObject, now: float, settings: BillingSettings) -> str:
    """``COUNTED``, or the reason the subscription's MRR is 0 (rules in the module docstring)."""
    status = subscription.get("status", "")
    if status not in COUNTING_STATUSES:
        return status if status in NOT_COUNTED else "unknown_status"
    if status == "trialing" and not settings.trials_count_as_mrr:
        return "trialing"
    if any(
        subscription.get(field) is not None and subscription[field] <= now
        for field in ("ended_at", "cancel_at")
    ):
        return "ended"
    pause = subscription.get("pause_collection")
    if pause and (pause.get("resumes_at") is None or now < pause["resumes_at"]):
        return "collection_paused"
    return COUNTED


def _items(subscription: StripeObject) -> list[StripeObject]:
    items = subscription.get("items") or {}
    if items.get("has_more"):
        raise BillingDataError(f"subscription {subscription.get('id')}: list all its items")
    return list(items.get("data") or [])


def subscription_mrr(
    subscription: StripeObject,
    now: float,
    settings: BillingSettings = DEFAULT_SETTINGS,
    customer_discount: StripeObject | None = None,
) -> SubscriptionMrr:
    """MRR and per-period amount of one subscription, as SYNC.md defines them.

    `customer_discount` is the customer's own discount (``customer.discount``), which applies
    when the subscription has none of its own.
    """
    items = _items(subscription)
    currency = subscription.get("currency") or (items[0]["price"]["currency"] if items else "")
    if not currency:
        raise BillingDataError(f"subscription {subscription.get('id')} has no currency")
    period = (items[0]["price"].get("recurring") if items else None) or {}
    period_months = months_per_period(period)
    total = Fraction(0)  # per subscription period, minor units
    metered: list[str] = []
    for item in items:
        price = _in_currency(item["price"], currency)
        recurring = price.get("recurring") or {}
        if recurring.get("usage_type") == "metered":
            metered.append(item["id"])
            continue
        quantity = item.get("quantity")
        amount = price_amount(price, 1 if quantity is None else int(quantity))
        item_discounts = _expanded(item.get("discounts") or [], str(item.get("id")))
        amount = apply_discounts(amount, item_discounts, currency, now)
        total += amount * period_months / months_per_period(recurring)
    discounts = subscription_discounts(subscription, customer_discount)
    total = apply_discounts(total, discounts, currency, now)
    reason = mrr_status(subscription, now, settings)
    counted = reason == COUNTED
    return SubscriptionMrr(
        subscription_id=str(subscription.get("id")),
        currency=hubspot_currency(currency),
        monthly=to_units(total / period_months if counted else Fraction(0), currency),
        per_period=to_units(total, currency),
        interval=str(period.get("interval", "month")),
        interval_count=int(period.get("interval_count") or 1),
        metered_items=tuple(metered),
        counted=counted,
        reason=reason,
    )
