"""The Stripe shape checker itself: it accepts Stripe's own example objects for the pinned version,
refuses objects of API version 2023-08-16 naming each field the version lacks, and tells ids from
expanded objects and includable fields from default ones (RELIABILITY row 46)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shared.stripe_version import API_VERSION
from tests.contract import stripe_shapes, stripe_types
from tests.contract.stripe_shapes import check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"
EXAMPLES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "fixtures3.json").read_text())[
    "resources"
]
OLD = json.loads((FIXTURES / "shapes-2023-08-16.json").read_text())

# Where stripe/openapi's example objects and the pinned library disagree, the library wins: the
# examples still carry `invoice.subscription` (gone since 2025-03-31), show `charge.refunds`
# without expand, and their placeholders expand `transfer_data.destination`.
KNOWN_EXAMPLE_DRIFT = {
    "charge": {
        "charge.refunds: includable, shown without expand[]=refunds",
        "charge.transfer_data.destination: expandable, must be an id unless expanded",
    },
    "invoice": {f"invoice.subscription: no such field in {API_VERSION} (Invoice)"},
    "subscription": {
        "subscription.transfer_data.destination: expandable, must be an id unless expanded"
    },
}


def test_the_checker_reads_the_version_omniroo_pins() -> None:
    assert stripe_types.VERSION == API_VERSION


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_stripes_example_objects_pass_but_for_the_known_drift(name: str) -> None:
    example = EXAMPLES[name]
    assert set(check(example)) == KNOWN_EXAMPLE_DRIFT.get(name, set())


def test_a_2023_subscription_is_refused_naming_each_field_the_version_lacks() -> None:
    problems = check(OLD["subscription"])
    assert {
        f"subscription.current_period_end: no such field in {API_VERSION} (Subscription)",
        f"subscription.current_period_start: no such field in {API_VERSION} (Subscription)",
        f"subscription.discount: no such field in {API_VERSION} (Subscription)",
    } <= set(problems)


def test_a_2023_invoice_is_refused_for_its_subscription_charge_and_line_prices() -> None:
    problems = set(check(OLD["invoice"]))
    for field in ("subscription", "charge", "paid", "discount", "subscription_details"):
        assert f"invoice.{field}: no such field in {API_VERSION} (Invoice)" in problems
    for field in ("price", "plan", "type", "subscription_item"):
        line = f"invoice.lines.data[0].{field}: no such field in {API_VERSION} (InvoiceLineItem)"
        assert line in problems


def test_a_2023_discount_with_its_coupon_inside_is_refused_and_lacks_its_source() -> None:
    assert check(OLD["discount"]) == [f"discount.coupon: no such field in {API_VERSION} (Discount)"]
    assert stripe_shapes.missing(OLD["discount"], EXAMPLES["discount"]) == [
        "discount.customer_account",
        "discount.source",
        "discount.subscription_item",
    ]


def test_an_expandable_field_is_an_id_unless_expanded_and_an_object_when_it_is() -> None:
    discount = copy.deepcopy(EXAMPLES["discount"])
    discount["source"]["coupon"] = "SUMMER"
    assert check(discount) == []
    assert check(discount, ["source.coupon"]) == [
        "discount.source.coupon: expanded, but still 'SUMMER'"
    ]
    discount["source"]["coupon"] = copy.deepcopy(EXAMPLES["coupon"])
    assert check(discount) == ["discount.source.coupon: expandable, must be an id unless expanded"]
    assert check(discount, ["source.coupon"]) == []


def test_an_includable_field_only_with_expand_and_its_type_checked() -> None:
    price = copy.deepcopy(EXAMPLES["price"])
    price["tiers"] = [{"flat_amount": None, "flat_amount_decimal": None, "unit_amount": 500,
                       "unit_amount_decimal": "500", "up_to": 10}]  # fmt: skip
    assert check(price) == ["price.tiers: includable, shown without expand[]=tiers"]
    assert check(price, ["tiers"]) == []
    price["tiers"][0]["unit_amount_decimal"] = 500
    assert check(price, ["tiers"]) == ["price.tiers[0].unit_amount_decimal: 500 is not a Decimal"]


def test_expansions_reach_into_list_objects_through_data() -> None:
    sub = copy.deepcopy(EXAMPLES["subscription"])
    sub.pop("transfer_data")
    sub["items"]["data"][0]["price"]["product"] = copy.deepcopy(EXAMPLES["product"])
    assert check(sub) == [
        "subscription.items.data[0].price.product: expandable, must be an id unless expanded"
    ]
    assert check(sub, ["items.data.price.product"]) == []


def test_field_paths_the_code_reads_are_checked_through_nested_and_expandable_types() -> None:
    assert stripe_shapes.field_path("invoice", "parent.subscription_details.subscription") == []
    assert stripe_shapes.field_path("discount", "source.coupon.percent_off") == []
    assert stripe_shapes.field_path("line_item", "pricing.price_details.price.product") == []
    assert stripe_shapes.field_path("invoice", "subscription") == [
        f"invoice.subscription: subscription is not a field of Invoice in {API_VERSION}"
    ]
    assert stripe_shapes.field_path("subscription", "current_period_end") != []
