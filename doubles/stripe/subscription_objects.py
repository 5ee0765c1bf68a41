"""The subscription-side objects of the Stripe double, as API version 2026-10-28.endive shows them.

Pure functions: a subscription, its items and their legacy ``plan``, and how ``trial_end``,
``trial_period_days`` and ``pause_collection`` read. Since 2025-03-31.basil the billing period lives
on each item (``current_period_start`` / ``_end``), not on the subscription, and a subscription's
discounts are only its ``discounts`` list (no single ``discount``).
"""

from typing import Any

from doubles.stripe.core import list_object
from doubles.stripe.wire import as_int, check_keys, invalid, missing_parameter, random_id


def plan_of(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` Stripe still shows beside a recurring price."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": price["livemode"],
        "metadata": dict(price["metadata"]),
        "meter": recurring["meter"],
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": price["transform_quantity"],
        "trial_period_days": None,
        "usage_type": recurring["usage_type"],
    }


def new_item(sub_id: str, now: int) -> dict[str, Any]:
    """A subscription item of quantity 1, before its price is set."""
    return {
        "id": random_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": now,
        "current_period_end": now,
        "current_period_start": now,
        "discounts": [],
        "metadata": {},
        "plan": None,
        "price": None,
        "quantity": 1,
        "subscription": sub_id,
        "tax_rates": [],
    }


def new_subscription(
    sub_id: str, now: int, customer: str, items: list[dict[str, Any]], livemode: bool
) -> dict[str, Any]:
    """An incomplete subscription starting now; callers set its items' period, trial and the
    rest."""
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": items[0]["price"]["currency"],
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": list_object(items, f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None,
        "livemode": livemode,
        "managed_payments": None,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def period_of(sub: dict[str, Any]) -> tuple[int, int]:
    """(start, end) of the subscription's current period: its items share it in the double."""
    item = sub["items"]["data"][0]
    return int(item["current_period_start"]), int(item["current_period_end"])


def set_period(sub: dict[str, Any], start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end


def trial_end_of(params: dict[str, Any], now: int) -> int | None:
    if params.get("trial_end") not in (None, ""):
        if params["trial_end"] == "now":
            return None
        end = as_int(params["trial_end"], "trial_end")
        if end <= now:
            message = "Invalid timestamp: must be an integer Unix timestamp in the future."
            raise invalid(message, "trial_end")
        return end
    if params.get("trial_period_days") not in (None, ""):
        days = as_int(params["trial_period_days"], "trial_period_days")
        if days < 0 or days > 730:
            message = "Invalid trial_period_days: must be between 0 and 730"
            raise invalid(message, "trial_period_days")
        return now + days * 86_400 if days else None
    return None


def pause_of(value: Any) -> dict[str, Any] | None:
    if value in ("", None):
        return None
    if not isinstance(value, dict) or not value.get("behavior"):
        raise missing_parameter("pause_collection[behavior]")
    check_keys(value, ("behavior", "resumes_at"), "pause_collection")
    behaviors = ("keep_as_draft", "mark_uncollectible", "void")
    if value["behavior"] not in behaviors:
        message = "Invalid pause_collection[behavior]: must be one of " + ", ".join(behaviors)
        raise invalid(message, "pause_collection[behavior]")
    resumes = value.get("resumes_at")
    return {
        "behavior": value["behavior"],
        "resumes_at": as_int(resumes, "pause_collection[resumes_at]") if resumes else None,
    }
