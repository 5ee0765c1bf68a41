"""Stripe subscription -> HubSpot deal with one line item per subscription item (SYNC.md).

Expects the subscription as retrieved with ``shared.sync.reads.SUBSCRIPTION_EXPAND`` (products,
tiers, item discounts, the latest invoice, discounts' coupons) and its customer with its own
discount's coupon expanded: a subscription without a discount of its own is priced with the
customer's, on the deal as on the contact. Pipeline and stage come from the project's rules.
"""

from typing import Any

from shared.billing.metrics import current_period_end
from shared.billing.money import hubspot_amount, hubspot_number
from shared.billing.mrr import BillingSettings, subscription_mrr
from shared.mapping.dates import day, flag
from shared.mapping.lines import frequency, product_name, unit_price
from shared.mapping.ops import Link, Op, Prune, Ref, Upsert, ref
from shared.project_settings import ProjectSettings

DEALS = "deals"
LINE_ITEMS = "line_items"


def who(customer: dict[str, Any]) -> str:
    return str(customer.get("name") or customer.get("email") or customer.get("id") or "")


def last_invoice_properties(invoice: Any) -> dict[str, str]:
    """The deal's view of its latest invoice; empty when Stripe has none (or only an id)."""
    if not isinstance(invoice, dict):
        return {}
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    return {
        "stripe_last_invoice_amount": hubspot_amount(
            invoice.get("total") or 0, invoice["currency"]
        ),
        "stripe_last_invoice_date": day(paid_at or invoice.get("created")),
        "stripe_last_invoice_status": str(invoice.get("status") or ""),
        "stripe_last_invoice_url": str(invoice.get("hosted_invoice_url") or ""),
    }


def dashboard(kind: str, object_id: str, account: str, livemode: bool) -> str:
    return f"https://dashboard.stripe.com/{account}/{'' if livemode else 'test/'}{kind}/{object_id}"


def subscription_plan(
    sub: dict[str, Any],
    customer: dict[str, Any],
    account: str,
    settings: ProjectSettings,
    now: float,
) -> list[Op]:
    items = (sub.get("items") or {}).get("data") or []
    prices = [item["price"] for item in items]
    mrr = subscription_mrr(
        sub, now, BillingSettings(settings.trials_count_as_mrr), customer.get("discount")
    )
    pipeline, stage = settings.stage_for(sub["status"], {p["id"] for p in prices})
    names = ", ".join(dict.fromkeys(product_name(p) for p in prices))
    deal = Upsert(
        DEALS,
        "stripe_subscription_id",
        sub["id"],
        {
            "stripe_subscription_id": sub["id"],
            "dealname": f"{who(customer)} - {names}" if names else who(customer),
            "amount": hubspot_number(mrr.per_period),
            "deal_currency_code": str(sub["currency"]).upper(),
            "stripe_mrr": hubspot_number(mrr.monthly),
            "pipeline": pipeline,
            "dealstage": stage,
            "closedate": day(sub.get("start_date") or sub.get("created")),
            "stripe_subscription_status": sub["status"],
            "stripe_current_period_end": day(current_period_end(sub)),
            "stripe_cancel_at_period_end": flag(sub.get("cancel_at_period_end")),
            "stripe_canceled_at": day(sub.get("canceled_at")),
            "stripe_trial_end": day(sub.get("trial_end")),
            "stripe_dashboard_url": dashboard(
                "subscriptions", sub["id"], account, bool(sub.get("livemode"))
            ),
            **last_invoice_properties(sub.get("latest_invoice")),
        },
    )
    lines = [
        Upsert(
            LINE_ITEMS,
            "stripe_line_id",
            item["id"],
            {
                "stripe_line_id": item["id"],
                "name": product_name(item["price"]),
                "price": unit_price(item["price"]),
                "quantity": str(item.get("quantity") or 0),
                "recurringbillingfrequency": frequency(item["price"]),
            },
        )
        for item in items
    ]
    contact = Ref("contacts", "stripe_customer_id", str(customer.get("id") or sub["customer"]))
    return [
        deal,
        *lines,
        Prune(ref(deal), LINE_ITEMS),
        Link(ref(deal), contact),
        *(Link(ref(deal), ref(line)) for line in lines),
    ]
