"""Prices and products as HubSpot shows them: names, billing frequencies, unit prices."""

from fractions import Fraction
from typing import Any

from shared.billing.money import hubspot_amount

# (interval, interval_count) -> HubSpot's recurringbillingfrequency option
FREQUENCIES = {
    ("week", 1): "weekly",
    ("week", 2): "biweekly",
    ("month", 1): "monthly",
    ("month", 3): "quarterly",
    ("month", 6): "per_six_months",
    ("year", 1): "annually",
    ("year", 2): "per_two_years",
    ("year", 3): "per_three_years",
}


def frequency(price: dict[str, Any]) -> str:
    recurring = price.get("recurring") or {}
    key = (str(recurring.get("interval")), int(recurring.get("interval_count") or 1))
    return FREQUENCIES.get(key, "")


def product_name(price: dict[str, Any]) -> str:
    product = price.get("product")
    if isinstance(product, dict) and product.get("name"):
        name = str(product["name"])
        return f"{name} ({price['nickname']})" if price.get("nickname") else name
    return str(price.get("nickname") or price.get("id") or "")


def unit_price(price: dict[str, Any]) -> str:
    """The per-unit price in currency units; "" for tiered prices, whose unit price varies."""
    if price.get("billing_scheme") == "tiered":
        return ""
    if price.get("unit_amount_decimal") not in (None, ""):
        return hubspot_amount(Fraction(str(price["unit_amount_decimal"])), price["currency"])
    if price.get("unit_amount") is None:
        return ""
    return hubspot_amount(price["unit_amount"], price["currency"])
