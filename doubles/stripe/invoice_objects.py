"""The invoice-side objects of the Stripe double, as Stripe shows them at API version 2023-08-16.

Pure functions: an invoice and its lines, what a price costs for a quantity (tiers included),
totals with each discount's share of each line, and the ad-hoc price behind an amount-only item.
"""

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from doubles.stripe.core import list_object, one_of, text
from doubles.stripe.wire import (
    as_bool,
    as_int,
    invalid,
    merge_metadata,
    missing_parameter,
    random_id,
)


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


def invoice_line(
    obj: dict[str, Any],
    amount: int,
    quantity: int | None,
    period: dict[str, int],
    description: str | None,
) -> dict[str, Any]:
    """An invoice line, from an invoice item or a subscription item (``obj``)."""
    line = {
        "id": random_id("il_", 24),
        "object": "line_item",
        "amount": amount,
        "amount_excluding_tax": amount,
        "currency": obj["price"]["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": obj.get("discountable", True),
        "discounts": [],
        "livemode": obj["price"]["livemode"],
        "metadata": dict(obj.get("metadata") or {}),
        "period": dict(period),
        "plan": obj.get("plan"),
        "price": copy.deepcopy(obj["price"]),
        "proration": False,
        "proration_details": {"credited_items": None},
        "quantity": quantity,
        "subscription": obj.get("subscription"),
        "tax_amounts": [],
        "tax_rates": [],
        "type": "subscription" if obj["object"] == "subscription_item" else "invoiceitem",
        "unit_amount_excluding_tax": obj["price"]["unit_amount_decimal"],
    }
    key = "subscription_item" if line["type"] == "subscription" else "invoice_item"
    line[key] = obj["id"]
    return line


def new_invoice(
    invoice_id: str,
    now: int,
    customer: dict[str, Any],
    lines: list[dict[str, Any]],
    livemode: bool,
) -> dict[str, Any]:
    """A draft one-off invoice of ``lines`` in usd; callers set what differs."""
    invoice: dict[str, Any] = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Omniroo test account",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "application_fee_amount": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {"enabled": False, "status": None},
        "billing_reason": "manual",
        "charge": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "usd",
        "custom_fields": None,
        "customer": customer["id"],
        "customer_address": copy.deepcopy(customer["address"]),
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": copy.deepcopy(customer["shipping"]),
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(lines, f"/v1/invoices/{invoice_id}/lines"),
        "livemode": livemode,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "paid": False,
        "paid_out_of_band": False,
        "payment_intent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": now,
        "period_start": now,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "quote": None,
        "receipt_number": None,
        "rendering_options": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": dict.fromkeys(
            ("finalized_at", "marked_uncollectible_at", "paid_at", "voided_at")
        ),
        "subscription": None,
        "subscription_details": {"metadata": None},
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "tax": None,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_tax_amounts": [],
        "transfer_data": None,
        "webhooks_delivered_at": None,
    }
    return invoice


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


def apply_invoice(invoice: dict[str, Any], params: dict[str, Any], now: int) -> None:
    for key in ("description", "footer"):
        if key in params:
            invoice[key] = text(params[key])
    if "metadata" in params:
        invoice["metadata"] = merge_metadata(invoice["metadata"], params["metadata"])
    if "auto_advance" in params:
        invoice["auto_advance"] = as_bool(params["auto_advance"], "auto_advance")
    if "collection_method" in params:
        choices = ("charge_automatically", "send_invoice")
        invoice["collection_method"] = one_of(
            params["collection_method"], choices, "collection_method"
        )
    if params.get("days_until_due") not in (None, ""):
        invoice["due_date"] = now + as_int(params["days_until_due"], "days_until_due") * 86_400
    if params.get("due_date") not in (None, ""):
        invoice["due_date"] = as_int(params["due_date"], "due_date")
    if invoice["collection_method"] == "send_invoice" and invoice["due_date"] is None:
        raise invalid(
            "Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.",
            "days_until_due",
        )


def totals(invoice: dict[str, Any], discounts: list[dict[str, Any]]) -> None:
    """Subtotal, each discount's share of each line, and what is left to pay."""
    lines = invoice["lines"]["data"]
    left = [line["amount"] if line["discountable"] else 0 for line in lines]
    for line in lines:
        line["discount_amounts"] = []
    totals = []
    for discount in discounts:
        coupon = discount["coupon"]
        if coupon["percent_off"] is not None:
            shares = [
                round_half_up(Decimal(a) * Decimal(str(coupon["percent_off"])) / 100) for a in left
            ]
        else:
            off = min(coupon["amount_off"], sum(left))
            base = sum(left) or 1
            shares = [off * a // base for a in left]
            if shares:  # the rounding remainder goes to the last line that has room for it
                last = max(i for i, a in enumerate(left) if a or i == 0)
                shares[last] += off - sum(shares)
        for index, share in enumerate(shares):
            left[index] -= share
            lines[index]["discount_amounts"].append({"amount": share, "discount": discount["id"]})
        totals.append({"amount": sum(shares), "discount": discount["id"]})
    subtotal = sum(line["amount"] for line in lines)
    total = subtotal - sum(t["amount"] for t in totals)
    paid = invoice["amount_paid"]
    invoice.update(
        {
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "total": total,
            "total_excluding_tax": total,
            "total_discount_amounts": totals,
            "amount_due": total,
            "amount_remaining": max(total - paid, 0),
            "discount": copy.deepcopy(discounts[0]) if discounts else None,
            "discounts": [d["id"] for d in discounts],
        }
    )


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
        "date": now,
        "description": text(params.get("description")),
        "discountable": as_bool(params.get("discountable", True), "discountable"),
        "discounts": [],
        "invoice": None,
        "livemode": livemode,
        "metadata": merge_metadata({}, params.get("metadata", {})),
        "period": item_period(params.get("period"), now),
        "plan": None,
        "price": price,
        "proration": False,
        "quantity": 1,
        "subscription": None,
        "tax_rates": [],
        "test_clock": None,
        "unit_amount": price["unit_amount"],
        "unit_amount_decimal": price["unit_amount_decimal"],
    }


def new_discount(
    coupon: dict[str, Any], customer: str, subscription: str | None, start: int, end: int | None
) -> dict[str, Any]:
    """A discount (``di_``) carrying a copy of its coupon, as API version 2023-08-16 shows it."""
    return {
        "id": random_id("di_", 24),
        "object": "discount",
        "checkout_session": None,
        "coupon": copy.deepcopy(coupon),
        "customer": customer,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "start": start,
        "subscription": subscription,
    }
