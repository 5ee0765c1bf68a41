"""A customer's derived contact properties (SYNC.md, the "derived" row of the contact table).

Everything is recomputed from complete lists (the customer's subscriptions of every status, its
charges, its invoices), never incremented, so a repeated or late event cannot count twice. Values
are HubSpot strings: numbers as plain decimals, dates as "YYYY-MM-DD" (UTC), booleans as
"true"/"false", and "" to clear a property.

Money is never added across currencies. ``stripe_currency`` is the one currency of the customer's
counted subscriptions; without any, of its paid charges; without any, ``customer.currency``; and
"" as soon as a step finds more than one. A figure (``stripe_mrr``, ``stripe_lifetime_value``)
whose amounts are all in ``stripe_currency`` is written as a number (0 when there are none);
otherwise it is "" and its ``*_breakdown`` property lists every currency, sorted by code:
"EUR 10.00; USD 49.00". A breakdown is "" whenever its figure is a number.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from shared.billing.money import hubspot_currency, hubspot_number, to_units
from shared.billing.mrr import (
    COUNTED,
    DEFAULT_SETTINGS,
    BillingSettings,
    mrr_status,
    subscription_mrr,
)
from shared.billing.payments import (
    hubspot_date,
    last_payment_date,
    last_payment_status,
    latest,
    lifetime_value,
)

StripeObject = dict[str, Any]

# The most alive first: paying, paying late, about to pay, owing, stopped, never started, over.
STATUS_PRECEDENCE = (
    "active",
    "past_due",
    "trialing",
    "unpaid",
    "paused",
    "incomplete",
    "canceled",
    "incomplete_expired",
)
NO_SUBSCRIPTION = "none"
LIVE = frozenset({"active", "past_due", "trialing"})  # the plans a customer is on now
RENEWING = LIVE
NEVER_STARTED = frozenset({"incomplete", "incomplete_expired"})
DELINQUENT_STATUSES = frozenset({"past_due", "unpaid"})
SEPARATOR = "; "

PROPERTIES = (
    "stripe_mrr",
    "stripe_mrr_breakdown",
    "stripe_currency",
    "stripe_subscription_status",
    "stripe_plan",
    "stripe_lifetime_value",
    "stripe_lifetime_value_breakdown",
    "stripe_last_payment_date",
    "stripe_last_payment_status",
    "stripe_next_renewal_date",
    "stripe_churn_date",
    "stripe_delinquent",
)


def current_period_end(subscription: StripeObject) -> int | None:
    """The soonest end of the items' periods (periods live on subscription items since API
    version 2025-03-31.basil; the subscription itself has none)."""
    ends = [
        int(item["current_period_end"])
        for item in (subscription.get("items") or {}).get("data") or []
        if item.get("current_period_end") is not None
    ]
    return min(ends, default=None)


def price_name(price: StripeObject) -> str:
    """The price's nickname, else its expanded product's name, else the price id."""
    product = price.get("product")
    if price.get("nickname"):
        return str(price["nickname"])
    if isinstance(product, dict) and product.get("name"):
        return str(product["name"])
    return str(price.get("id", ""))


def subscription_status(customer: StripeObject, subscriptions: list[StripeObject]) -> str:
    if customer.get("deleted"):
        return "deleted"
    statuses = [str(s.get("status", "")) for s in subscriptions]
    rank = {status: i for i, status in enumerate(STATUS_PRECEDENCE)}
    return min(statuses, key=lambda s: (rank.get(s, len(rank)), s), default=NO_SUBSCRIPTION)


def plan(subscriptions: list[StripeObject]) -> str:
    names: dict[str, None] = {}  # ordered set
    live = [s for s in subscriptions if s.get("status") in LIVE]
    for subscription in sorted(live, key=lambda s: (s.get("created", 0), s.get("id", ""))):
        for item in (subscription.get("items") or {}).get("data") or []:
            names[price_name(item["price"])] = None
    return SEPARATOR.join(names)


def monthly_recurring_revenue(
    customer: StripeObject,
    subscriptions: list[StripeObject],
    now: float,
    settings: BillingSettings = DEFAULT_SETTINGS,
) -> dict[str, Decimal]:
    """MRR per currency (uppercase code) of the subscriptions that count; others are not priced."""
    total: dict[str, Decimal] = {}
    for subscription in subscriptions:
        if mrr_status(subscription, now, settings) != COUNTED:
            continue
        mrr = subscription_mrr(subscription, now, settings, customer.get("discount"))
        total[mrr.currency] = total.get(mrr.currency, Decimal(0)) + mrr.monthly
    return total


def _single(currencies: Iterable[str]) -> str | None:
    """The one currency, "" when several, None when none."""
    found = set(currencies)
    return found.pop() if len(found) == 1 else ("" if found else None)


def contact_currency(
    customer: StripeObject, mrr: dict[str, Decimal], ltv: dict[str, Decimal]
) -> str:
    for currencies in (mrr, ltv, [customer["currency"]] if customer.get("currency") else []):
        single = _single(hubspot_currency(c) for c in currencies)
        if single is not None:
            return single
    return ""


def money_figure(by_currency: dict[str, Decimal], currency: str) -> tuple[str, str]:
    """(number, breakdown) for one money property, by the module's currency rule."""
    if not by_currency:
        return (hubspot_number(to_units(0, currency) if currency else Decimal(0)), "")
    if set(by_currency) == {currency}:
        return (hubspot_number(by_currency[currency]), "")
    listed = (f"{c} {hubspot_number(by_currency[c])}" for c in sorted(by_currency))
    return ("", SEPARATOR.join(listed))


def next_renewal_date(subscriptions: list[StripeObject]) -> str:
    ends = []
    for subscription in subscriptions:
        end = current_period_end(subscription)
        cancel_at = subscription.get("cancel_at")
        if (
            subscription.get("status") in RENEWING
            and not subscription.get("cancel_at_period_end")
            and end is not None
            and (cancel_at is None or cancel_at > end)
        ):
            ends.append(end)
    return hubspot_date(min(ends, default=None))


def _end(subscription: StripeObject) -> tuple[bool, int | None]:
    """(will end, when): ended, or set to end; (False, None) while it renews."""
    if subscription.get("status") == "canceled":
        for field in ("ended_at", "canceled_at", "cancel_at"):
            if subscription.get(field) is not None:
                return (True, int(subscription[field]))
        return (True, None)
    if subscription.get("cancel_at_period_end"):
        return (True, current_period_end(subscription))
    if subscription.get("cancel_at") is not None:
        return (True, int(subscription["cancel_at"]))
    return (False, None)


def churn_date(subscriptions: list[StripeObject]) -> str:
    """The day the last subscription ended or is set to end; "" while any renews.

    Subscriptions that never started (incomplete, incomplete_expired) are not churn.
    """
    started = [s for s in subscriptions if s.get("status") not in NEVER_STARTED]
    ends = [_end(s) for s in started]
    if not ends or not all(ending for ending, _ in ends):
        return ""
    return hubspot_date(max((when for _, when in ends if when is not None), default=None))


def last_invoice_failed(invoices: list[StripeObject], now: float) -> bool:
    """The latest finalized invoice is open, with money left, after an attempt or its due date."""
    finalized = [i for i in invoices if i.get("status") not in ("draft", "void")]
    last = latest(finalized, lambda i: (i["created"], i["id"]))
    if last is None or last.get("status") != "open" or not last.get("amount_remaining"):
        return False
    due = last.get("due_date")
    return bool(last.get("attempted")) or (due is not None and due < now)


def delinquent(
    customer: StripeObject,
    subscriptions: list[StripeObject],
    invoices: list[StripeObject],
    now: float,
) -> bool:
    return (
        bool(customer.get("delinquent"))
        or any(s.get("status") in DELINQUENT_STATUSES for s in subscriptions)
        or last_invoice_failed(invoices, now)
    )


def _unique(objects: list[StripeObject]) -> list[StripeObject]:
    """One object per id, the last one listed, so an overlapping page cannot count twice."""
    return list({o.get("id") or repr(o): o for o in objects}.values())


def contact_metrics(
    customer: StripeObject,
    subscriptions: list[StripeObject],
    charges: list[StripeObject],
    invoices: list[StripeObject],
    now: float,
    settings: BillingSettings = DEFAULT_SETTINGS,
    disputes: Sequence[StripeObject] = (),
) -> dict[str, str]:
    """Every property of `PROPERTIES`, from the customer's complete Stripe lists (``disputes``:
    those of its disputed charges)."""
    subscriptions, charges, invoices = map(_unique, (subscriptions, charges, invoices))
    disputes = _unique(list(disputes))
    mrr = monthly_recurring_revenue(customer, subscriptions, now, settings)
    ltv = lifetime_value(charges, disputes)
    currency = contact_currency(customer, mrr, ltv)
    mrr_number, mrr_breakdown = money_figure(mrr, currency)
    ltv_number, ltv_breakdown = money_figure(ltv, currency)
    is_delinquent = delinquent(customer, subscriptions, invoices, now)
    return {
        "stripe_mrr": mrr_number,
        "stripe_mrr_breakdown": mrr_breakdown,
        "stripe_currency": currency,
        "stripe_subscription_status": subscription_status(customer, subscriptions),
        "stripe_plan": plan(subscriptions),
        "stripe_lifetime_value": ltv_number,
        "stripe_lifetime_value_breakdown": ltv_breakdown,
        "stripe_last_payment_date": last_payment_date(charges),
        "stripe_last_payment_status": last_payment_status(charges, invoices, disputes),
        "stripe_next_renewal_date": next_renewal_date(subscriptions),
        "stripe_churn_date": churn_date(subscriptions),
        "stripe_delinquent": "true" if is_delinquent else "false",
    }
