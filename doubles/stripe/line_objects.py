"""Lines and invoice items of the Stripe double, as API version 2026-10-28.endive shows them.

Pure functions: what a price costs for a quantity (tiers included), an invoice line and its
``parent`` (the subscription item or invoice item it bills) and ``pricing`` (the price, by id), an
invoice item, and the ad-hoc price behind an amount-only item. Since 2025-03-31.basil a line has no
``price``, ``plan``, ``type`` or ``proration``: they moved under ``pricing`` and ``parent``.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from doubles.stripe.core import text
from doubles.stripe.wire import as_bool, as_int, merge_metadata, missing_parameter, random_id


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_amount(price: dict[str, Any], tiers: list[dict[str, Any]] | None, quantity: int) -> int:
    """What ``quantity`` units of ``price`` cost, in the currency's smallest unit."""
    if price["billing_scheme"] != "tiered":
        transform = price.get("transform_quantity")
        if transform:
            divided = Decimal(quantity) / transform["divide_by"]
            rounding = ROUND_HALF_UP if transform["round"] == "up" else "ROUND_DOWN"
            quantity = int(divided.quantize(Decimal(1), rounding=rounding))
        return round_half_up(Decimal(price["unit_amount_decimal"] or 0) * quantity)
    total, lower = Decimal(0), 0
    for tier in tiers or []:
        upper = tier["up_to"]
        unit = Decimal(tier["unit_amount_decimal"] or 0)
        flat = Decimal(tier["flat_amount_decimal"] or 0)
        if price["tiers_mode"] == "volume":
            if upper is None or quantity <= upper:
                return round_half_up(unit * quantity + (flat if quantity else 0))
            continue
        in_tier = quantity - lower if upper is None else min(quantity, upper) - lower
        if in_tier <= 0:
            break
        total += unit * in_tier + flat
        lower = upper or lower
    return round_half_up(total)


def pricing(price: dict[str, Any]) -> dict[str, Any]:
    """A line's or an invoice item's ``pricing``: the price it bills, by id."""
    return {
        "price_details": {"price": price["id"], "product": price["product"]},
        "type": "price_details",
        "unit_amount_decimal": price["unit_amount_decimal"],
    }


def line_parent(source: dict[str, Any]) -> dict[str, Any]:
    """A line's ``parent``: the subscription item or the invoice item it bills."""
    if source["object"] == "subscription_item":
        details = {
            "invoice_item": None,
            "proration": False,
            "proration_details": {"credited_items": None},
            "subscription": source["subscription"],
            "subscription_item": source["id"],
        }
        return {"subscription_item_details": details, "type": "subscription_item_details"}
    details = {
        "invoice_item": source["id"],
        "proration": False,
        "proration_details": {"credited_items": None},
        "subscription": None,
    }
    return {"invoice_item_details": details, "type": "invoice_item_details"}


def invoice_line(
    source: dict[str, Any],
    price: dict[str, Any],
    amount: int,
    quantity: int | None,
    period: dict[str, int],
    description: str | None,
) -> dict[str, Any]:
    """An invoice line billing ``source`` (a subscription item or an invoice item) at ``price``;
    its ``invoice`` is set when the invoice is made."""
    return {
        "id": random_id("il_", 24),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": source.get("discountable", True),
        "discounts": [],
        "invoice": None,
        "livemode": price["livemode"],
        "metadata": dict(source.get("metadata") or {}),
        "parent": line_parent(source),
        "period": dict(period),
        "pretax_credit_amounts": [],
        "pricing": pricing(price),
        "quantity": quantity,
        "quantity_decimal": None if quantity is None else str(quantity),
        "subscription": source.get("subscription"),
        "subtotal": amount,
        "taxes": [],
    }


def line_source(line: dict[str, Any]) -> str:
    """The id of the subscription item or invoice item a line bills."""
    parent = line["parent"]
    details = parent[parent["type"]]
    return str(details.get("subscription_item") or details["invoice_item"])


def line_price(line: dict[str, Any]) -> str:
    return str(line["pricing"]["price_details"]["price"])


def adhoc_price(now: int, livemode: bool, currency: str, unit: int) -> dict[str, Any]:
    # Stripe backs an amount-only item with an inactive price of a hidden product.
    return {
        "id": random_id("price_", 24),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": livemode,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": random_id("prod_", 14),
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit,
        "unit_amount_decimal": str(unit),
    }


def item_period(value: Any, now: int) -> dict[str, int]:
    if value in (None, ""):
        return {"end": now, "start": now}
    if not isinstance(value, dict) or "start" not in value or "end" not in value:
        raise missing_parameter("period[start]")
    return {
        "end": as_int(value["end"], "period[end]"),
        "start": as_int(value["start"], "period[start]"),
    }


def new_invoiceitem(
    params: dict[str, Any], customer: str, price: dict[str, Any], now: int, livemode: bool
) -> dict[str, Any]:
    """A pending invoice item of one unit of ``price``; callers set amount and quantity."""
    return {
        "id": random_id("ii_", 24),
        "object": "invoiceitem",
        "amount": 0,
        "currency": price["currency"],
        "customer": customer,
        "customer_account": None,
        "date": now,
        "description": text(params.get("description")),
        "discountable": as_bool(params.get("discountable", True), "discountable"),
        "discounts": [],
        "invoice": None,
        "livemode": livemode,
        "metadata": merge_metadata({}, params.get("metadata", {})),
        "net_amount": 0,
        "parent": None,
        "period": item_period(params.get("period"), now),
        "pricing": pricing(price),
        "proration": False,
        "proration_details": {"credited_items": None, "discount_amounts": []},
        "quantity": 1,
        "quantity_decimal": "1",
        "tax_rates": [],
        "test_clock": None,
    }
