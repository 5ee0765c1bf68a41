"""Discounts of subscriptions and of their items, in the Stripe double.

``discounts[i][coupon]`` on a subscription and ``items[i][discounts][j][coupon]`` on an item make
discounts (``customer.discount.created`` each); since 2025-03-31.basil there is no single
``coupon`` parameter and no single ``discount`` field
(https://docs.stripe.com/changelog/basil/2025-03-31/deprecate-singular-coupon-promotion-code).
An item's discount takes only that item's line; the subscription's share what is left.
"""

from typing import Any

from doubles.stripe.core import Call
from doubles.stripe.credit_notes import CreditNotesApi
from doubles.stripe.wire import as_list, check_keys, invalid


class SubscriptionDiscountsApi(CreditNotesApi):
    """The discounts a subscription create or update asks for."""

    def _new_discounts(
        self, call: Call, sub: dict[str, Any], params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Discounts from ``discounts[i][coupon]`` for the subscription, and from
        ``items[i][discounts][j][coupon]`` for its items (each item keeps its own)."""
        made = self._discounts(call, sub, params.get("discounts", []), "discounts", None)
        if made:
            sub["discounts"] = [d["id"] for d in made]
        for item in sub["items"]["data"]:
            wanted = call.account.private[item["id"]].pop("discounts", None)
            if wanted is not None:
                entries, prefix = wanted
                mine = self._discounts(call, sub, entries, prefix, item["id"])
                item["discounts"] = [d["id"] for d in mine]
                made += mine
        return made

    def _discounts(
        self, call: Call, sub: dict[str, Any], entries: Any, prefix: str, item: str | None
    ) -> list[dict[str, Any]]:
        made = []
        for index, entry in enumerate(as_list(entries, prefix)):
            param = f"{prefix}[{index}]"
            if not isinstance(entry, dict):
                raise invalid(f"Invalid {param}: must be a hash", param)
            check_keys(entry, ("coupon", "discount", "promotion_code"), param)
            if not entry.get("coupon"):
                continue
            coupon = self._get(call.account, "coupon", str(entry["coupon"]), f"{param}[coupon]")
            if coupon["currency"] not in (None, sub["currency"]):
                message = (
                    f"The coupon's currency ({coupon['currency']}) must match the subscription's "
                    f"currency ({sub['currency']})."
                )
                raise invalid(message, f"{param}[coupon]")
            discount = self._discount(
                call, sub["customer"], sub["id"], coupon["id"], f"{param}[coupon]"
            )
            discount["subscription_item"] = item
            made.append(discount)
        return made
