"""A customer's derived contact properties (SYNC.md contact table, the "derived" row)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.billing.metrics import PROPERTIES, contact_metrics
from shared.billing.mrr import BillingSettings

NOW = 1_800_000_000  # 2027-01-15 08:00:00 UTC
DAY = 86_400
DEFAULTS = BillingSettings()


def at(iso: str) -> int:
    """Seconds since the epoch of a UTC time written "2027-01-15T08:00:00"."""
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp())


def customer(**fields: Any) -> dict[str, Any]:
    return {"id": "cus_1", "object": "customer", "delinquent": False, "discount": None, **fields}


def price(
    amount: int, currency: str = "usd", price_id: str = "price_1", **fields: Any
) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "billing_scheme": "per_unit",
        "currency": currency,
        "nickname": None,
        "product": "prod_1",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
        **fields,
    }


def sub(
    sub_id: str,
    status: str = "active",
    amount: int = 4900,
    currency: str = "usd",
    *,
    the_price: dict[str, Any] | None = None,
    period_end: int = NOW + 10 * DAY,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "status": status,
        "currency": currency,
        "created": NOW - 100 * DAY,
        "items": {
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "price": the_price or price(amount, currency),
                    "quantity": 1,
                    "current_period_end": period_end,  # on the items since 2025-03-31
                }
            ],
            "has_more": False,
        },
        "discounts": [],
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "pause_collection": None,
        **fields,
    }


def charge(
    charge_id: str,
    amount: int,
    status: str = "succeeded",
    *,
    refunded: int = 0,
    created: int = NOW - DAY,
    currency: str = "usd",
    **fields: Any,
) -> dict[str, Any]:
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "captured": status == "succeeded",
        "currency": currency,
        "status": status,
        "created": created,
        **fields,
    }


def invoice(
    invoice_id: str,
    status: str,
    *,
    created: int = NOW - DAY,
    attempted: bool = True,
    amount_due: int = 4900,
    **fields: Any,
) -> dict[str, Any]:
    paid = status == "paid"
    return {
        "id": invoice_id,
        "object": "invoice",
        "status": status,
        "created": created,
        "attempted": attempted,
        "amount_due": amount_due,
        "amount_paid": amount_due if paid else 0,
        "amount_remaining": 0 if paid else amount_due,
        "due_date": None,
        "status_transitions": {
            "finalized_at": created + 3600,
            "paid_at": created + 3600 if paid else None,
        },
        **fields,
    }


def metrics(
    subscriptions: list[dict[str, Any]] | None = None,
    charges: list[dict[str, Any]] | None = None,
    invoices: list[dict[str, Any]] | None = None,
    the_customer: dict[str, Any] | None = None,
    settings: BillingSettings = DEFAULTS,
    disputes: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    return contact_metrics(
        the_customer or customer(),
        subscriptions or [],
        charges or [],
        invoices or [],
        NOW,
        settings,
        disputes or [],
    )


def test_no_subscriptions_at_all() -> None:
    assert metrics() == {
        "stripe_mrr": "0",  # nothing counts; no currency known, so a bare 0
        "stripe_mrr_breakdown": "",
        "stripe_currency": "",
        "stripe_subscription_status": "none",
        "stripe_plan": "",
        "stripe_lifetime_value": "0",
        "stripe_lifetime_value_breakdown": "",
        "stripe_last_payment_date": "",
        "stripe_last_payment_status": "",
        "stripe_next_renewal_date": "",
        "stripe_churn_date": "",
        "stripe_delinquent": "false",
    }


def test_every_property_is_always_written() -> None:
    assert tuple(metrics([sub("sub_1")])) == PROPERTIES


def test_one_currency_adds_up() -> None:
    got = metrics([sub("sub_1", amount=4900), sub("sub_2", amount=1000)])
    # 49.00 + 10.00 = 59.00
    assert (got["stripe_mrr"], got["stripe_mrr_breakdown"], got["stripe_currency"]) == (
        "59.00",
        "",
        "USD",
    )


def test_mixed_currencies_are_listed_never_summed() -> None:
    got = metrics(
        [sub("sub_u", amount=4900), sub("sub_e", amount=1000, currency="eur")],
        [charge("ch_1", 4900)],
    )
    assert got["stripe_mrr"] == ""
    assert got["stripe_mrr_breakdown"] == "EUR 10.00; USD 49.00"
    assert got["stripe_currency"] == ""
    # no stripe_currency to stand beside it, so even the one-currency LTV is spelled out
    assert (got["stripe_lifetime_value"], got["stripe_lifetime_value_breakdown"]) == (
        "",
        "USD 49.00",
    )


def test_mixed_with_a_zero_decimal_currency() -> None:
    got = metrics([sub("sub_u", amount=4900), sub("sub_j", amount=5000, currency="jpy")])
    assert got["stripe_mrr_breakdown"] == "JPY 5000; USD 49.00"


def test_a_canceled_subscription_in_another_currency_does_not_mix() -> None:
    got = metrics([sub("sub_u"), sub("sub_e", "canceled", 1000, "eur", ended_at=NOW - DAY)])
    assert (got["stripe_mrr"], got["stripe_currency"]) == ("49.00", "USD")


def test_currency_falls_back_to_charges_then_customer() -> None:
    assert metrics(charges=[charge("ch_1", 500, currency="gbp")])["stripe_currency"] == "GBP"
    got = metrics(the_customer=customer(currency="jpy"))
    assert (got["stripe_currency"], got["stripe_mrr"], got["stripe_lifetime_value"]) == (
        "JPY",
        "0",
        "0",
    )
    assert metrics(the_customer=customer(currency="usd"))["stripe_mrr"] == "0.00"


def test_trials_count_only_with_the_setting() -> None:
    trial = [sub("sub_1", "trialing")]
    assert metrics(trial)["stripe_mrr"] == "0"
    assert (
        metrics(trial, settings=BillingSettings(trials_count_as_mrr=True))["stripe_mrr"] == "49.00"
    )


def test_customer_discount_applies_to_contact_mrr() -> None:
    ten_pct = {
        "id": "di_c",
        "end": None,
        "source": {"coupon": {"id": "co", "percent_off": 10, "duration": "forever"}},
    }
    # 49.00 - 10% = 44.10
    assert metrics([sub("sub_1")], the_customer=customer(discount=ten_pct))["stripe_mrr"] == "44.10"


def test_lifetime_value_is_paid_minus_refunded() -> None:
    charges = [
        charge("ch_full", 10_000),  # 100.00
        charge("ch_part", 5000, refunded=2000),  # 50.00 - 20.00 = 30.00
        charge("ch_refunded", 3000, refunded=3000),  # 30.00 - 30.00 = 0.00
        charge("ch_failed", 99_900, "failed"),  # no money taken
        charge("ch_pending", 7000, "pending"),  # not taken yet
        charge("ch_auth", 8000, captured=False),  # authorised, not captured
    ]
    # 100.00 + 30.00 + 0.00 = 130.00
    got = metrics(charges=charges)
    assert (got["stripe_lifetime_value"], got["stripe_currency"]) == ("130.00", "USD")


def dispute(dispute_id: str, charge_id: str, amount: int, status: str) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "charge": charge_id,
        "amount": amount,
        "currency": "usd",
        "status": status,
    }


def test_a_lost_dispute_lowers_lifetime_value_and_a_won_one_does_not() -> None:
    charges = [charge("ch_1", 10_000), charge("ch_2", 5000, refunded=1000), charge("ch_3", 2000)]
    disputes = [
        dispute("dp_lost", "ch_2", 4000, "lost"),  # 50.00 - 10.00 refunded - 40.00 lost = 0
        dispute("dp_won", "ch_3", 2000, "won"),
    ]
    got = metrics(charges=charges, disputes=disputes)
    assert got["stripe_lifetime_value"] == "120.00"  # 100.00 + 0.00 + 20.00
    assert got["stripe_last_payment_status"] == "succeeded"


def test_an_open_dispute_sets_the_last_payment_status_to_disputed_until_it_closes() -> None:
    charges = [charge("ch_1", 10_000, created=NOW - 5 * DAY), charge("ch_2", 3000)]
    open_one = [dispute("dp_1", "ch_1", 10_000, "needs_response")]
    got = metrics(charges=charges, disputes=open_one)
    assert (got["stripe_last_payment_status"], got["stripe_lifetime_value"]) == (
        "disputed",
        "130.00",  # not lost yet: the money still counts
    )
    closed = [dispute("dp_1", "ch_1", 10_000, "lost")]
    got = metrics(charges=charges, disputes=closed)
    assert (got["stripe_last_payment_status"], got["stripe_lifetime_value"]) == (
        "succeeded",
        "30.00",
    )


def test_a_partial_capture_counts_what_was_captured() -> None:
    # authorised 80.00, captured 60.00: Stripe refunds the other 20.00 at capture
    held = charge("ch_auth", 8000, refunded=2000, amount_captured=6000)
    assert metrics(charges=[held])["stripe_lifetime_value"] == "60.00"


def test_lifetime_value_is_recomputed_not_incremented() -> None:
    once = metrics(charges=[charge("ch_1", 4900)])
    repeated = metrics(charges=[charge("ch_1", 4900), charge("ch_1", 4900)])
    assert once["stripe_lifetime_value"] == repeated["stripe_lifetime_value"] == "49.00"


def test_lifetime_value_in_mixed_currencies_is_listed() -> None:
    got = metrics([sub("sub_1")], [charge("ch_u", 4900), charge("ch_e", 1200, currency="eur")])
    assert got["stripe_mrr"] == "49.00"
    assert got["stripe_currency"] == "USD"
    assert got["stripe_lifetime_value"] == ""
    assert got["stripe_lifetime_value_breakdown"] == "EUR 12.00; USD 49.00"


def test_lifetime_value_in_another_currency_than_mrr_is_listed() -> None:
    got = metrics([sub("sub_1")], [charge("ch_e", 1200, currency="eur")])
    assert (got["stripe_lifetime_value"], got["stripe_lifetime_value_breakdown"]) == (
        "",
        "EUR 12.00",
    )


def test_last_payment_is_the_latest_succeeded_charge_in_utc() -> None:
    got = metrics(
        charges=[
            charge("ch_old", 4900, created=at("2026-12-15T10:00:00")),
            charge("ch_late", 4900, created=at("2027-01-14T23:59:59")),  # 00:59 in Paris
            charge("ch_failed", 4900, "failed", created=at("2027-01-15T07:00:00")),
        ]
    )
    assert got["stripe_last_payment_date"] == "2027-01-14"
    assert got["stripe_last_payment_status"] == "failed"  # the latest attempt failed


@pytest.mark.parametrize(
    ("charges", "invoices", "expected"),
    [
        pytest.param([charge("ch_1", 100, created=NOW - 2 * DAY)], [], "succeeded", id="charge"),
        pytest.param([charge("ch_1", 100, "pending")], [], "pending", id="pending-charge"),
        pytest.param(
            [charge("ch_1", 100, created=NOW - 9 * DAY)],
            [invoice("in_1", "open", created=NOW - 2 * DAY)],  # no payment method: no charge
            "failed",
            id="later-failed-invoice",
        ),
        pytest.param(
            [charge("ch_1", 100, "failed", created=NOW - 9 * DAY)],
            [invoice("in_1", "paid", created=NOW - 2 * DAY)],  # paid from the customer balance
            "succeeded",
            id="later-paid-invoice",
        ),
        pytest.param(
            [charge("ch_1", 4900, created=NOW - DAY + 3600)],
            [invoice("in_1", "open", created=NOW - DAY)],  # finalized_at = created + 1h: a tie
            "succeeded",
            id="tie-goes-to-the-charge",
        ),
        pytest.param(
            [], [invoice("in_1", "open", attempted=False)], "", id="not-attempted-invoice"
        ),
        pytest.param([], [invoice("in_1", "paid", amount_due=0)], "", id="zero-invoice"),
        pytest.param([], [invoice("in_1", "draft", attempted=False)], "", id="draft"),
    ],
)
def test_last_payment_status(
    charges: list[dict[str, Any]], invoices: list[dict[str, Any]], expected: str
) -> None:
    assert metrics(charges=charges, invoices=invoices)["stripe_last_payment_status"] == expected


def test_next_renewal_is_the_earliest_period_end_that_renews() -> None:
    subs = [
        sub("sub_far", period_end=at("2027-03-01T00:00:00")),
        sub("sub_trial", "trialing", period_end=at("2027-02-01T12:00:00")),
        sub("sub_late", "past_due", period_end=at("2027-02-10T00:00:00")),
        # these do not renew:
        sub("sub_ending", cancel_at_period_end=True, period_end=at("2027-01-20T00:00:00")),
        sub(
            "sub_cancel_at",
            cancel_at=at("2027-01-21T00:00:00"),
            period_end=at("2027-01-21T00:00:00"),
        ),
        sub("sub_gone", "canceled", period_end=at("2027-01-16T00:00:00")),
        sub("sub_unpaid", "unpaid", period_end=at("2027-01-17T00:00:00")),
        sub("sub_paused", "paused", period_end=at("2027-01-18T00:00:00")),
    ]
    assert metrics(subs)["stripe_next_renewal_date"] == "2027-02-01"


def test_next_renewal_is_the_soonest_item_period_end() -> None:
    two = sub("sub_1")
    first = two["items"]["data"][0]
    two["items"]["data"] = [
        {**first, "current_period_end": at("2027-02-05T00:00:00")},
        {**first, "id": "si_2", "current_period_end": at("2027-02-03T00:00:00")},
    ]
    assert metrics([two])["stripe_next_renewal_date"] == "2027-02-03"


@pytest.mark.parametrize(
    ("subscriptions", "expected"),
    [
        pytest.param(
            [
                sub("sub_a", "canceled", ended_at=at("2026-05-01T00:00:00")),
                sub("sub_b", "canceled", ended_at=at("2026-09-30T12:00:00")),
            ],
            "2026-09-30",
            id="all-ended-latest-ended-at",
        ),
        pytest.param(
            [sub("sub_a", "canceled", canceled_at=at("2026-04-02T00:00:00"))],
            "2026-04-02",
            id="canceled-at-when-no-ended-at",
        ),
        pytest.param(
            [
                sub("sub_a", "canceled", ended_at=at("2026-05-01T00:00:00")),
                sub(
                    "sub_b",
                    cancel_at_period_end=True,
                    cancel_at=at("2027-02-01T00:00:00"),
                    period_end=at("2027-02-01T00:00:00"),
                ),
            ],
            "2027-02-01",
            id="last-one-cancels-at-period-end",
        ),
        pytest.param(
            [
                sub("sub_a", "canceled", ended_at=at("2026-05-01T00:00:00")),
                sub("sub_b"),
            ],
            "",
            id="one-still-renews",
        ),
        pytest.param(
            [
                sub("sub_a", "canceled", ended_at=at("2026-05-01T00:00:00")),
                sub("sub_never", "incomplete_expired", ended_at=at("2026-12-01T00:00:00")),
            ],
            "2026-05-01",
            id="never-started-is-not-churn",
        ),
        pytest.param([sub("sub_never", "incomplete_expired")], "", id="only-never-started"),
        pytest.param([sub("sub_unpaid", "unpaid")], "", id="unpaid-is-not-over"),
        pytest.param([], "", id="no-subscriptions"),
    ],
)
def test_churn_date(subscriptions: list[dict[str, Any]], expected: str) -> None:
    assert metrics(subscriptions)["stripe_churn_date"] == expected


@pytest.mark.parametrize(
    ("the_customer", "subscriptions", "invoices", "expected"),
    [
        pytest.param(customer(), [sub("sub_1")], [invoice("in_1", "paid")], "false", id="clean"),
        pytest.param(customer(delinquent=True), [], [], "true", id="stripe-says-so"),
        pytest.param(customer(), [sub("sub_1", "past_due")], [], "true", id="past-due"),
        pytest.param(customer(), [sub("sub_1", "unpaid")], [], "true", id="unpaid"),
        pytest.param(
            customer(),
            [],
            [
                invoice("in_old", "paid", created=NOW - 40 * DAY),
                invoice("in_new", "open", created=NOW - 5 * DAY),
            ],
            "true",
            id="last-invoice-failed",
        ),
        pytest.param(
            customer(),
            [],
            [
                invoice("in_old", "open", created=NOW - 40 * DAY),
                invoice("in_new", "paid", created=NOW - 5 * DAY),
                invoice("in_draft", "draft", created=NOW - DAY, attempted=False),
                invoice("in_void", "void", created=NOW - DAY),
            ],
            "false",
            id="older-failure-then-paid",
        ),
        pytest.param(
            customer(),
            [],
            [invoice("in_1", "open", attempted=False, due_date=NOW - DAY)],
            "true",
            id="sent-invoice-overdue",
        ),
        pytest.param(
            customer(),
            [],
            [invoice("in_1", "open", attempted=False, due_date=NOW + DAY)],
            "false",
            id="sent-invoice-not-yet-due",
        ),
        pytest.param(customer(), [], [invoice("in_1", "uncollectible")], "false", id="written-off"),
    ],
)
def test_delinquent(
    the_customer: dict[str, Any],
    subscriptions: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    expected: str,
) -> None:
    got = metrics(subscriptions, invoices=invoices, the_customer=the_customer)
    assert got["stripe_delinquent"] == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["canceled", "active", "trialing"], "active"),
        (["trialing", "past_due"], "past_due"),
        (["canceled", "trialing"], "trialing"),
        (["paused", "unpaid"], "unpaid"),
        (["incomplete", "paused"], "paused"),
        (["canceled", "incomplete"], "incomplete"),
        (["incomplete_expired", "canceled"], "canceled"),
        (["incomplete_expired"], "incomplete_expired"),
        (["some_new_status", "canceled"], "canceled"),
        (["some_new_status"], "some_new_status"),
        ([], "none"),
    ],
)
def test_status_precedence(statuses: list[str], expected: str) -> None:
    subs = [sub(f"sub_{i}", status) for i, status in enumerate(statuses)]
    assert metrics(subs)["stripe_subscription_status"] == expected


def test_deleted_customer_status() -> None:
    gone = {"id": "cus_1", "object": "customer", "deleted": True}
    assert metrics(the_customer=gone)["stripe_subscription_status"] == "deleted"


def test_plan_names_the_live_subscriptions() -> None:
    product = {"id": "prod_9", "object": "product", "name": "Team"}
    subs = [
        sub("sub_1", the_price=price(4900, nickname="Pro monthly")),
        sub("sub_2", "trialing", the_price=price(900, price_id="price_2", product=product)),
        sub("sub_3", "past_due", the_price=price(100, price_id="price_bare")),
        sub("sub_4", the_price=price(4900, nickname="Pro monthly")),  # same name: once
        sub("sub_5", "canceled", the_price=price(100, nickname="Old plan")),  # not live
    ]
    assert metrics(subs)["stripe_plan"] == "Pro monthly; Team; price_bare"
