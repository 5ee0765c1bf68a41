"""MRR of one subscription (SYNC.md, the MRR paragraph) and the money helpers under it.

Every expected value in the table is worked out by hand in the comment beside it.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from shared.billing.money import hubspot_amount, hubspot_currency, hubspot_number, to_units
from shared.billing.mrr import (
    BillingDataError,
    BillingSettings,
    SubscriptionMrr,
    subscription_mrr,
)

NOW = 1_800_000_000
DAY = 86_400
DEFAULTS = BillingSettings()
TRIALS_COUNT = BillingSettings(trials_count_as_mrr=True)

# tiers: 1-5 at 10.00 + 20.00 flat, 6-10 at 8.00 + 30.00 flat, 11+ at 6.00 + 50.00 flat
TIERS = [
    {"up_to": 5, "unit_amount": 1000, "unit_amount_decimal": "1000", "flat_amount": 2000},
    {"up_to": 10, "unit_amount": 800, "unit_amount_decimal": "800", "flat_amount": 3000},
    {"up_to": None, "unit_amount": 600, "unit_amount_decimal": "600", "flat_amount": 5000},
]

# one open tier priced in fractions of a cent: 2.25 cents a unit, 100.5 cents flat
DECIMAL_TIER = [
    {
        "up_to": None,
        "unit_amount": None,
        "unit_amount_decimal": "2.25",
        "flat_amount": None,
        "flat_amount_decimal": "100.5",
    }
]


def price(
    unit_amount: int | None = None,
    *,
    interval: str = "month",
    count: int = 1,
    currency: str = "usd",
    usage: str = "licensed",
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": "price_1",
        "object": "price",
        "billing_scheme": "per_unit",
        "currency": currency,
        "nickname": None,
        "product": "prod_1",
        "recurring": {"interval": interval, "interval_count": count, "usage_type": usage},
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
        **fields,
    }


def tiered(mode: str) -> dict[str, Any]:
    return price(billing_scheme="tiered", tiers_mode=mode, tiers=TIERS)


def item(
    item_price: dict[str, Any], quantity: int | None = 1, item_id: str = "si_1", **fields: Any
) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "subscription_item",
        "price": item_price,
        "quantity": quantity,
        "discounts": [],
        **fields,
    }


def sub(*items: dict[str, Any], status: str = "active", **fields: Any) -> dict[str, Any]:
    currency = items[0]["price"]["currency"] if items else "usd"
    return {
        "id": "sub_1",
        "object": "subscription",
        "status": status,
        "currency": currency,
        "items": {"object": "list", "data": list(items), "has_more": False},
        "discounts": [],
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "pause_collection": None,
        **fields,
    }


def coupon(
    *,
    percent_off: float | None = None,
    amount_off: int | None = None,
    duration: str = "forever",
    currency: str | None = None,
) -> dict[str, Any]:
    return {
        "id": "co_1",
        "object": "coupon",
        "percent_off": percent_off,
        "amount_off": amount_off,
        "currency": currency if amount_off is not None else None,
        "duration": duration,
    }


def discount(
    the_coupon: dict[str, Any], *, end: int | None = None, discount_id: str = "di_1"
) -> dict[str, Any]:
    """A discount as the current API shapes it: the coupon under ``source``."""
    return {
        "id": discount_id,
        "object": "discount",
        "start": NOW - 100 * DAY,
        "end": end,
        "source": {"type": "coupon", "coupon": the_coupon},
    }


USD_100 = item(price(10_000))  # 100.00 a month
PCT_20 = discount(coupon(percent_off=20))
METERED = item(price(5, usage="metered"), quantity=None, item_id="si_meter")


@dataclass(frozen=True)
class Case:
    subscription: dict[str, Any]
    monthly: str
    per_period: str
    reason: str = "counted"
    metered: tuple[str, ...] = ()
    settings: BillingSettings = DEFAULTS
    customer_discount: dict[str, Any] | None = field(default=None)


CASES = [
    # 49.99 a month x 1 = 49.99
    pytest.param(Case(sub(item(price(4999))), "49.99", "49.99"), id="monthly"),
    # 1,200.00 a year / 12 = 100.00
    pytest.param(
        Case(sub(item(price(120_000, interval="year"))), "100.00", "1200.00"), id="yearly"
    ),
    # 100.00 a year / 12 = 8.333... -> 8.33
    pytest.param(
        Case(sub(item(price(10_000, interval="year"))), "8.33", "100.00"), id="yearly-round"
    ),
    # 10.00 a week x 52 / 12 = 520 / 12 = 43.333... -> 43.33
    pytest.param(Case(sub(item(price(1000, interval="week"))), "43.33", "10.00"), id="weekly"),
    # 1.00 a day x 365 / 12 = 30.41666... -> 30.42
    pytest.param(Case(sub(item(price(100, interval="day"))), "30.42", "1.00"), id="daily"),
    # 2 seats x 30.00 every 3 months = 60 / 3 = 20.00
    pytest.param(Case(sub(item(price(3000, count=3), 2)), "20.00", "60.00"), id="quarterly"),
    # 90.00 every 6 months = 90 / 6 = 15.00
    pytest.param(Case(sub(item(price(9000, count=6))), "15.00", "90.00"), id="every-6-months"),
    # 0.03 every 6 months = 0.005 -> 0.01 (ROUND_HALF_UP, not banker's 0.00)
    pytest.param(Case(sub(item(price(3, count=6))), "0.01", "0.03"), id="half-up"),
    # 2 weeks at 7.00: 7 x 52 / 12 / 2 = 15.1666... -> 15.17
    pytest.param(
        Case(sub(item(price(700, interval="week", count=2))), "15.17", "7.00"), id="biweekly"
    ),
    # 7 seats x 12.00 = 84.00
    pytest.param(Case(sub(item(price(1200), 7)), "84.00", "84.00"), id="quantity"),
    # quantity 0 seats x 12.00 = 0.00
    pytest.param(Case(sub(item(price(1200), 0)), "0.00", "0.00"), id="quantity-zero"),
    # volume, 5 = top of tier 1: 5 x 10 + 20 flat = 70.00
    pytest.param(Case(sub(item(tiered("volume"), 5)), "70.00", "70.00"), id="volume-boundary"),
    # volume, 6 = first of tier 2: all 6 x 8 + 30 flat = 78.00
    pytest.param(Case(sub(item(tiered("volume"), 6)), "78.00", "78.00"), id="volume-past-boundary"),
    # volume, 7 inside tier 2: 7 x 8 + 30 flat = 86.00
    pytest.param(Case(sub(item(tiered("volume"), 7)), "86.00", "86.00"), id="volume-inside"),
    # volume, 12 in the open tier: 12 x 6 + 50 flat = 122.00
    pytest.param(Case(sub(item(tiered("volume"), 12)), "122.00", "122.00"), id="volume-infinite"),
    # volume, 0: no tier is touched, so no flat amount either = 0.00
    pytest.param(Case(sub(item(tiered("volume"), 0)), "0.00", "0.00"), id="volume-zero"),
    # graduated, 0: likewise 0.00
    pytest.param(Case(sub(item(tiered("graduated"), 0)), "0.00", "0.00"), id="graduated-zero"),
    # graduated, 3: 3 x 10 + 20 = 50.00
    pytest.param(Case(sub(item(tiered("graduated"), 3)), "50.00", "50.00"), id="graduated-1-tier"),
    # graduated, 5 (boundary, tier 2 untouched): 5 x 10 + 20 = 70.00
    pytest.param(
        Case(sub(item(tiered("graduated"), 5)), "70.00", "70.00"), id="graduated-boundary"
    ),
    # graduated, 12: (5 x 10 + 20) + (5 x 8 + 30) + (2 x 6 + 50) = 70 + 70 + 62 = 202.00
    pytest.param(
        Case(sub(item(tiered("graduated"), 12)), "202.00", "202.00"), id="graduated-3-tiers"
    ),
    # graduated yearly, 12: 202.00 a year / 12 = 16.8333... -> 16.83
    pytest.param(
        Case(
            sub(
                item({**tiered("graduated"), "recurring": price(interval="year")["recurring"]}, 12)
            ),
            "16.83",
            "202.00",
        ),
        id="graduated-yearly",
    ),
    # unit_amount_decimal "1.5" (cents) wins over unit_amount 2: 1000 x 1.5 = 1500 cents = 15.00
    pytest.param(
        Case(sub(item(price(2, unit_amount_decimal="1.5"), 1000)), "15.00", "15.00"), id="decimal"
    ),
    # unit_amount_decimal "0.5" cents x 1 = 0.5 cents -> 1 cent (half up) = 0.01
    pytest.param(
        Case(sub(item(price(None, unit_amount_decimal="0.5"))), "0.01", "0.01"),
        id="decimal-sub-cent",
    ),
    # tier decimals: 3 x 2.25 cents + flat 100.5 cents = 6.75 + 100.5 = 107.25 cents -> 1.07
    pytest.param(
        Case(
            sub(item(price(billing_scheme="tiered", tiers_mode="volume", tiers=DECIMAL_TIER), 3)),
            "1.07",
            "1.07",
        ),
        id="tier-decimals",
    ),
    # transform_quantity: 25 users / 10 per pack, rounded up = 3 packs x 50.00 = 150.00
    pytest.param(
        Case(
            sub(item(price(5000, transform_quantity={"divide_by": 10, "round": "up"}), 25)),
            "150.00",
            "150.00",
        ),
        id="transform-up",
    ),
    # transform_quantity rounded down: 25 / 10 = 2 packs x 50.00 = 100.00
    pytest.param(
        Case(
            sub(item(price(5000, transform_quantity={"divide_by": 10, "round": "down"}), 25)),
            "100.00",
            "100.00",
        ),
        id="transform-down",
    ),
    # 100.00 - 25% forever = 75.00
    pytest.param(
        Case(sub(USD_100, discounts=[discount(coupon(percent_off=25))]), "75.00", "75.00"),
        id="percent-forever",
    ),
    # 100.00 - 25.5% = 74.50 (percent_off is a float in the API)
    pytest.param(
        Case(sub(USD_100, discounts=[discount(coupon(percent_off=25.5))]), "74.50", "74.50"),
        id="percent-fractional",
    ),
    # 1,200.00 a year - 120.00 off each (yearly) invoice = 1,080.00 a year / 12 = 90.00
    pytest.param(
        Case(
            sub(
                item(price(120_000, interval="year")),
                discounts=[discount(coupon(amount_off=12_000, currency="usd"))],
            ),
            "90.00",
            "1080.00",
        ),
        id="amount-off-yearly",
    ),
    # EUR subscription, USD coupon with an EUR amount: 100.00 - 15.00 (its EUR option) = 85.00
    pytest.param(
        Case(
            sub(
                item(price(10_000, currency="eur")),
                discounts=[
                    discount(
                        coupon(amount_off=2000, currency="usd")
                        | {"currency_options": {"eur": {"amount_off": 1500}}}
                    )
                ],
            ),
            "85.00",
            "85.00",
        ),
        id="amount-off-currency-option",
    ),
    # 100.00 - 150.00 off = never below 0.00
    pytest.param(
        Case(
            sub(USD_100, discounts=[discount(coupon(amount_off=15_000, currency="usd"))]),
            "0.00",
            "0.00",
        ),
        id="amount-off-floor",
    ),
    # 50% repeating, ends in 30 days: 100.00 x 0.5 = 50.00
    pytest.param(
        Case(
            sub(
                USD_100,
                discounts=[
                    discount(coupon(percent_off=50, duration="repeating"), end=NOW + 30 * DAY)
                ],
            ),
            "50.00",
            "50.00",
        ),
        id="repeating-running",
    ),
    # 50% repeating, ended a second ago: 100.00
    pytest.param(
        Case(
            sub(
                USD_100,
                discounts=[discount(coupon(percent_off=50, duration="repeating"), end=NOW - 1)],
            ),
            "100.00",
            "100.00",
        ),
        id="repeating-expired",
    ),
    # 50% repeating, ends exactly now (running while now < end): 100.00
    pytest.param(
        Case(
            sub(
                USD_100, discounts=[discount(coupon(percent_off=50, duration="repeating"), end=NOW)]
            ),
            "100.00",
            "100.00",
        ),
        id="repeating-ends-now",
    ),
    # 50% once: not recurring, ignored: 100.00
    pytest.param(
        Case(
            sub(USD_100, discounts=[discount(coupon(percent_off=50, duration="once"))]),
            "100.00",
            "100.00",
        ),
        id="once-ignored",
    ),
    # two different discounts, one after the other: 100.00 x 0.9 = 90.00, then - 5.00 = 85.00
    pytest.param(
        Case(
            sub(
                USD_100,
                discounts=[
                    discount(coupon(percent_off=10), discount_id="di_a"),
                    discount(coupon(amount_off=500, currency="usd"), discount_id="di_b"),
                ],
            ),
            "85.00",
            "85.00",
        ),
        id="stacked",
    ),
    # no discount of its own: the customer's 10% applies: 90.00
    pytest.param(
        Case(
            sub(USD_100),
            "90.00",
            "90.00",
            customer_discount=discount(coupon(percent_off=10), discount_id="di_cus"),
        ),
        id="customer-discount",
    ),
    # its own 20% replaces the customer's 10%: 80.00
    pytest.param(
        Case(
            sub(USD_100, discounts=[PCT_20]),
            "80.00",
            "80.00",
            customer_discount=discount(coupon(percent_off=10), discount_id="di_cus"),
        ),
        id="customer-discount-overridden",
    ),
    # item discount: base 49.00 + seats 3 x 10.00 = 30.00 at 50% off = 15.00 -> 64.00
    pytest.param(
        Case(
            sub(
                item(price(4900), item_id="si_base"),
                item(
                    price(1000),
                    3,
                    item_id="si_seats",
                    discounts=[discount(coupon(percent_off=50), discount_id="di_item")],
                ),
            ),
            "64.00",
            "64.00",
        ),
        id="item-discount",
    ),
    # trialing, trials not counted: MRR 0.00; the deal amount is still 100.00
    pytest.param(Case(sub(USD_100, status="trialing"), "0.00", "100.00", "trialing"), id="trial"),
    # trialing, trials counted: 100.00
    pytest.param(
        Case(sub(USD_100, status="trialing"), "100.00", "100.00", settings=TRIALS_COUNT),
        id="trial-counted",
    ),
    # past_due still owes: 100.00
    pytest.param(Case(sub(USD_100, status="past_due"), "100.00", "100.00"), id="past-due"),
    # cancels at period end, in 10 days: counts until then, 100.00
    pytest.param(
        Case(sub(USD_100, cancel_at_period_end=True, cancel_at=NOW + 10 * DAY), "100.00", "100.00"),
        id="cancel-at-period-end",
    ),
    # still "active" but its cancel_at has passed (stale object): 0.00
    pytest.param(
        Case(sub(USD_100, cancel_at_period_end=True, cancel_at=NOW - 1), "0.00", "100.00", "ended"),
        id="cancel-at-passed",
    ),
    # canceled: 0.00
    pytest.param(
        Case(sub(USD_100, status="canceled", ended_at=NOW - DAY), "0.00", "100.00", "canceled"),
        id="canceled",
    ),
    # incomplete (first payment not through): 0.00
    pytest.param(
        Case(sub(USD_100, status="incomplete"), "0.00", "100.00", "incomplete"), id="incomplete"
    ),
    # incomplete_expired: 0.00
    pytest.param(
        Case(sub(USD_100, status="incomplete_expired"), "0.00", "100.00", "incomplete_expired"),
        id="incomplete-expired",
    ),
    # unpaid (Stripe stopped retrying): 0.00
    pytest.param(Case(sub(USD_100, status="unpaid"), "0.00", "100.00", "unpaid"), id="unpaid"),
    # a status this code does not know yet: not counted, 0.00
    pytest.param(
        Case(sub(USD_100, status="frozen"), "0.00", "100.00", "unknown_status"), id="unknown-status"
    ),
    # paused: 0.00
    pytest.param(Case(sub(USD_100, status="paused"), "0.00", "100.00", "paused"), id="paused"),
    # active with payment collection paused: 0.00
    pytest.param(
        Case(
            sub(USD_100, pause_collection={"behavior": "void", "resumes_at": None}),
            "0.00",
            "100.00",
            "collection_paused",
        ),
        id="collection-paused",
    ),
    # collection pause that resumed an hour ago: 100.00
    pytest.param(
        Case(
            sub(USD_100, pause_collection={"behavior": "void", "resumes_at": NOW - 3600}),
            "100.00",
            "100.00",
        ),
        id="collection-resumed",
    ),
    # metered only: nothing licensed, 0.00, the item flagged
    pytest.param(Case(sub(METERED), "0.00", "0.00", metered=("si_meter",)), id="metered-only"),
    # licensed 20.00 + metered (left out, flagged) = 20.00
    pytest.param(
        Case(sub(item(price(2000)), METERED), "20.00", "20.00", metered=("si_meter",)),
        id="metered-and-licensed",
    ),
    # 5000 JPY a month is 5000 yen (zero-decimal), not 50
    pytest.param(Case(sub(item(price(5000, currency="jpy"))), "5000", "5000"), id="jpy"),
    # 10000 JPY a year / 12 = 833.33... -> 833 (whole yen)
    pytest.param(
        Case(sub(item(price(10_000, currency="jpy", interval="year"))), "833", "10000"),
        id="jpy-yearly",
    ),
    # 1500 fils a month = 1.500 KWD (three decimals)
    pytest.param(Case(sub(item(price(1500, currency="kwd"))), "1.500", "1.500"), id="kwd"),
    # 10.000 KWD a year / 12 = 0.8333... -> 0.833
    pytest.param(
        Case(sub(item(price(10_000, currency="kwd", interval="year"))), "0.833", "10.000"),
        id="kwd-yearly",
    ),
    # base 49.00 + 3 seats x 10.00 + add-on 2 x 7.50 = 49 + 30 + 15 = 94.00
    pytest.param(
        Case(
            sub(
                item(price(4900), item_id="si_a"),
                item(price(1000), 3, item_id="si_b"),
                item(price(750), 2, item_id="si_c"),
            ),
            "94.00",
            "94.00",
        ),
        id="several-items",
    ),
    # price in USD with an EUR option, subscription in EUR: the EUR amount 45.00
    pytest.param(
        Case(
            sub(
                item(
                    price(
                        5000,
                        currency_options={
                            "eur": {"unit_amount": 4500, "unit_amount_decimal": "4500"}
                        },
                    )
                ),
                currency="eur",
            ),
            "45.00",
            "45.00",
        ),
        id="currency-option",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_subscription_mrr(case: Case) -> None:
    result = subscription_mrr(case.subscription, NOW, case.settings, case.customer_discount)
    assert (str(result.monthly), str(result.per_period)) == (case.monthly, case.per_period)
    assert result.reason == case.reason
    assert result.counted == (case.reason == "counted")
    assert result.metered_items == case.metered


def test_result_names_the_subscription_its_currency_and_period() -> None:
    result = subscription_mrr(sub(item(price(3000, count=3, currency="eur"), 2)), NOW)
    assert result == SubscriptionMrr(
        subscription_id="sub_1",
        currency="EUR",
        monthly=Decimal("20.00"),
        per_period=Decimal("60.00"),
        interval="month",
        interval_count=3,
        metered_items=(),
        counted=True,
        reason="counted",
    )


@pytest.mark.parametrize(
    ("subscription", "message"),
    [
        pytest.param(
            sub(item(price(billing_scheme="tiered", tiers_mode="volume"), 3)),
            "expand items.data.price.tiers",
            id="tiers-not-expanded",
        ),
        pytest.param(sub(USD_100, discounts=["di_9"]), "expand discounts", id="discount-id"),
        pytest.param(
            sub(USD_100, discounts=[{"id": "di_1", "source": {"coupon": "co_1"}}]),
            "expand its coupon",
            id="coupon-id",
        ),
        pytest.param(
            sub(USD_100, discounts=[discount(coupon(amount_off=500, currency="eur"))]),
            "no amount_off in usd",
            id="coupon-currency",
        ),
        pytest.param(
            sub(item(price(5000)), currency="eur"),
            "expand items.data.price.currency_options",
            id="price-currency",
        ),
        pytest.param(
            sub(item(price(100, interval="fortnight"))),
            "unknown recurring interval",
            id="unknown-interval",
        ),
        pytest.param(
            sub(item(price(billing_scheme="tiered", tiers_mode="stairs", tiers=TIERS))),
            "unknown tiers_mode",
            id="unknown-tiers-mode",
        ),
        pytest.param(
            sub(item(price(billing_scheme="tiered", tiers_mode="volume", tiers=TIERS[:1]), 6)),
            "above its last tier",
            id="no-open-tier",
        ),
        pytest.param(sub(item(price(None))), "has no unit amount", id="no-unit-amount"),
        pytest.param(
            sub(USD_100, discounts=[{"id": "di_1", "source": {"coupon": None}}]),
            "has no coupon",
            id="discount-without-coupon",
        ),
        pytest.param(
            # API versions before 2025-09-30 put the coupon on the discount itself: not read
            sub(USD_100, discounts=[{"id": "di_1", "coupon": coupon(percent_off=20)}]),
            "has no coupon",
            id="pre-clover-discount",
        ),
        pytest.param(
            sub(item(price(5000, currency_options={"gbp": {"unit_amount": 4000}})), currency="eur"),
            "has no amount in eur",
            id="price-lacks-currency",
        ),
        pytest.param(sub(currency=None), "has no currency", id="no-currency"),
        pytest.param(
            sub(USD_100) | {"items": {"data": [USD_100], "has_more": True}},
            "list all its items",
            id="items-truncated",
        ),
    ],
)
def test_what_it_cannot_price_is_an_error_not_a_guess(
    subscription: dict[str, Any], message: str
) -> None:
    with pytest.raises(BillingDataError, match=message):
        subscription_mrr(subscription, NOW)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (4999, "usd", "49.99"),
        (4900, "usd", "49.00"),
        (5000, "jpy", "5000"),
        (5000, "JPY", "5000"),
        (1500, "kwd", "1.500"),
        (1230, "bhd", "1.230"),
        (0, "usd", "0.00"),
        (0, "jpy", "0"),
        (-250, "eur", "-2.50"),
        (10**12, "usd", "10000000000.00"),  # no exponent, however large
        (Fraction(1, 2), "usd", "0.01"),  # half a cent rounds up
        (Fraction(-1, 2), "usd", "-0.01"),  # and away from zero
        (Fraction(149, 100), "usd", "0.01"),
    ],
)
def test_minor_units_to_hubspot_number(
    amount: int | Fraction, currency: str, expected: str
) -> None:
    assert hubspot_amount(amount, currency) == expected
    assert to_units(amount, currency) == Decimal(expected)


def test_every_zero_decimal_currency_counts_whole_units() -> None:
    zero_decimal = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"]
    zero_decimal += ["pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
    assert {c: hubspot_amount(5000, c) for c in zero_decimal} == dict.fromkeys(zero_decimal, "5000")


def test_hubspot_number_has_no_exponent_or_negative_zero() -> None:
    assert hubspot_number(Decimal("5E+3")) == "5000"
    assert hubspot_number(Decimal("-0.00")) == "0.00"


def test_currency_code_is_uppercased_for_hubspot() -> None:
    assert hubspot_currency("usd") == "USD"
