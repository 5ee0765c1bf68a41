"""The invoice-side objects of the Stripe double, as API version 2026-10-28.endive shows them.

Pure functions: an invoice (its lines are ``line_objects``), totals with each discount's share of
each line, and a discount. In this version an invoice names its subscription under
``parent.subscription_details`` (no ``subscription``, ``charge`` or ``paid`` since 2025-03-31.basil:
payments are invoice payments), and a discount names its coupon, an id unless expanded, under
``source`` (2025-09-30.clover).
"""

import copy
from decimal import Decimal
from typing import Any

from doubles.stripe.core import list_object, one_of, text
from doubles.stripe.line_objects import line_source, round_half_up
from doubles.stripe.wire import as_bool, as_int, invalid, merge_metadata, random_id


def new_invoice(
    invoice_id: str,
    now: int,
    customer: dict[str, Any],
    lines: list[dict[str, Any]],
    livemode: bool,
) -> dict[str, Any]:
    """A draft one-off invoice of ``lines`` in usd; callers set what differs."""
    for line in lines:
        line["invoice"] = invoice_id
    invoice: dict[str, Any] = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Omniroo test account",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": "manual",
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "usd",
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
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
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(lines, f"/v1/invoices/{invoice_id}/lines"),
        "livemode": livemode,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": now,
        "period_start": now,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": dict.fromkeys(
            ("finalized_at", "marked_uncollectible_at", "paid_at", "voided_at")
        ),
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    return invoice


def subscription_parent(subscription: dict[str, Any]) -> dict[str, Any]:
    """An invoice's ``parent`` when it bills a subscription."""
    details = {
        "metadata": dict(subscription["metadata"]),
        "subscription": subscription["id"],
        "subscription_proration_date": None,
    }
    return {"quote_details": None, "subscription_details": details, "type": "subscription_details"}


def invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The id of the subscription an invoice bills, if any."""
    parent = invoice["parent"] or {}
    return (parent.get("subscription_details") or {}).get("subscription")


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


def totals(invoice: dict[str, Any], applied: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Subtotal, each discount's share of each line, and what is left to pay; ``applied`` pairs
    each discount with its coupon. An item's own discount takes only that item's line (and is
    listed in its ``discounts``), before the invoice's discounts share what is left."""
    lines = invoice["lines"]["data"]
    left = [line["amount"] if line["discountable"] else 0 for line in lines]
    for line in lines:
        line["discount_amounts"] = []
        line["discounts"] = []
    totals = []
    ordered = sorted(applied, key=lambda pair: pair[0]["subscription_item"] is None)
    for discount, coupon in ordered:
        item = discount["subscription_item"]
        scope = [item is None or line_source(line) == item for line in lines]
        base = [a if inside else 0 for a, inside in zip(left, scope, strict=True)]
        if coupon["percent_off"] is not None:
            percent = Decimal(str(coupon["percent_off"]))
            shares = [round_half_up(Decimal(a) * percent / 100) for a in base]
        else:
            off = min(coupon["amount_off"], sum(base))
            whole = sum(base) or 1
            shares = [off * a // whole for a in base]
            if shares:  # the rounding remainder goes to the last line that has room for it
                last = max(i for i, a in enumerate(base) if a or i == 0)
                shares[last] += off - sum(shares)
        for index, share in enumerate(shares):
            left[index] -= share
            if scope[index]:
                amounts = lines[index]["discount_amounts"]
                amounts.append({"amount": share, "discount": discount["id"]})
                if item is not None:
                    lines[index]["discounts"].append(discount["id"])
        totals.append({"amount": sum(shares), "discount": discount["id"]})
    subtotal = sum(line["amount"] for line in lines)
    total = subtotal - sum(t["amount"] for t in totals)
    paid = invoice["amount_paid"]
    credited = invoice["pre_payment_credit_notes_amount"]
    invoice.update(
        {
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "total": total,
            "total_excluding_tax": total,
            "total_discount_amounts": totals,
            "amount_due": max(total - credited, 0),
            "amount_remaining": max(total - credited - paid, 0),
            "discounts": [d["id"] for d, _ in applied if d["subscription_item"] is None],
        }
    )


def new_discount(
    coupon: dict[str, Any], customer: str, subscription: str | None, start: int, end: int | None
) -> dict[str, Any]:
    """A discount (``di_``): its coupon is an id under ``source`` unless expanded
    (https://docs.stripe.com/changelog/clover/2025-09-30/add-discount-source-property)."""
    return {
        "id": random_id("di_", 24),
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "customer_account": None,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": start,
        "subscription": subscription,
        "subscription_item": None,
    }
