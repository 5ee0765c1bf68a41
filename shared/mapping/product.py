"""Stripe price (with its product) -> one HubSpot product, archived when archived in Stripe."""

from typing import Any

from shared.mapping.lines import frequency, product_name, unit_price
from shared.mapping.ops import Archive, Op, Upsert

PRODUCTS = "products"


def product_op(price: dict[str, Any]) -> Op:
    raw = price.get("product")
    product: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if price.get("deleted") or not price.get("active", True) or product.get("active") is False:
        return Archive(PRODUCTS, "stripe_price_id", price["id"])
    return Upsert(
        PRODUCTS,
        "stripe_price_id",
        price["id"],
        {
            "stripe_price_id": price["id"],
            "stripe_product_id": str(product.get("id") or price.get("product") or ""),
            "name": product_name(price),
            "price": unit_price(price),
            "description": str(product.get("description") or ""),
            "hs_sku": price["id"],
            "recurringbillingfrequency": frequency(price),
        },
    )
