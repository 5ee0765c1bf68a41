"""A one-off Stripe invoice (no subscription) -> its own HubSpot deal, with line items.

Invoices of a subscription are not mapped here: they refresh their subscription's deal.
"""

from typing import Any

from shared.billing.money import hubspot_amount
from shared.mapping.dates import day
from shared.mapping.lines import product_name
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


def _line(line: dict[str, Any], currency: str) -> Upsert:
    price = line.get("price") if isinstance(line.get("price"), dict) else None
    quantity = int(line.get("quantity") or 1)
    unit = (price or {}).get("unit_amount")
    amount = unit if unit is not None else int(line.get("amount") or 0) // max(quantity, 1)
    name = product_name(price) if price else str(line.get("description") or line["id"])
    return Upsert(
        "line_items",
        "stripe_line_id",
        line["id"],
        {
            "stripe_line_id": line["id"],
            "name": str(line.get("description") or name),
            "price": hubspot_amount(amount, currency),
            "quantity": str(quantity),
        },
    )


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
            "amount": hubspot_amount(invoice.get("total") or 0, currency),
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
