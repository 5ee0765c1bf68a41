"""A one-off Stripe invoice (no subscription) -> its own HubSpot deal, with line items.

Invoices of a subscription are not mapped here: they refresh their subscription's deal. Read as
API version 2026-10-28.endive shapes an invoice (since 2025-03-31.basil): its subscription is at
``parent.subscription_details.subscription``, a line's price under ``pricing`` (an id: a line's
price would be a fifth expansion level from the invoice, so the unit amount and the description
Stripe writes on the line are used instead).
"""

from fractions import Fraction
from typing import Any

from shared.billing.money import hubspot_amount
from shared.mapping.dates import day
from shared.mapping.ops import Link, Op, Prune, Ref, Upsert, ref
from shared.mapping.subscription import dashboard, last_invoice_properties, who

# invoice status -> stage in HubSpot's default pipeline (a paid invoice is a won deal)
STAGES = {
    "paid": "closedwon",
    "void": "closedlost",
    "uncollectible": "closedlost",
    "open": "contractsent",
    "draft": "appointmentscheduled",
}


def subscription_of(invoice: dict[str, Any]) -> str:
    """The id of the subscription an invoice bills, "" for a one-off invoice."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription")
    return str(found.get("id") if isinstance(found, dict) else found or "")


def _line(line: dict[str, Any], currency: str) -> Upsert:
    quantity = int(line.get("quantity") or 1)
    unit = (line.get("pricing") or {}).get("unit_amount_decimal")
    amount = (
        Fraction(str(unit))
        if unit not in (None, "")
        else Fraction(int(line.get("amount") or 0), max(quantity, 1))
    )
    return Upsert(
        "line_items",
        "stripe_line_id",
        line["id"],
        {
            "stripe_line_id": line["id"],
            "name": str(line.get("description") or line["id"]),
            "price": hubspot_amount(amount, currency),
            "quantity": str(quantity),
        },
    )


def worth(invoice: dict[str, Any]) -> int:
    """The invoice's total less its credit notes, before and after payment (minor units)."""
    credited = int(invoice.get("pre_payment_credit_notes_amount") or 0) + int(
        invoice.get("post_payment_credit_notes_amount") or 0
    )
    return int(invoice.get("total") or 0) - credited


def invoice_plan(invoice: dict[str, Any], customer: dict[str, Any], account: str) -> list[Op]:
    currency = invoice["currency"]
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    deal = Upsert(
        "deals",
        "stripe_invoice_id",
        invoice["id"],
        {
            "stripe_invoice_id": invoice["id"],
            "dealname": f"{who(customer)} - invoice {invoice.get('number') or invoice['id']}",
            "amount": hubspot_amount(worth(invoice), currency),
            "deal_currency_code": str(currency).upper(),
            "pipeline": "default",
            "dealstage": STAGES.get(str(invoice.get("status")), "appointmentscheduled"),
            "closedate": day(paid_at or invoice.get("created")),
            "stripe_dashboard_url": dashboard(
                "invoices", invoice["id"], account, bool(invoice.get("livemode"))
            ),
            **last_invoice_properties(invoice),
        },
    )
    lines = [_line(line, currency) for line in (invoice.get("lines") or {}).get("data") or []]
    contact = Ref("contacts", "stripe_customer_id", str(customer.get("id") or ""))
    return [
        deal,
        *lines,
        Prune(ref(deal), "line_items"),
        Link(ref(deal), contact),
        *(Link(ref(deal), ref(line)) for line in lines),
    ]
