"""Invoice items and discounts of the Stripe double.

An invoice item waits (pending) until an invoice takes it, or is added to a draft invoice at once.
A discount is one redemption of a coupon; the coupon it redeemed is kept beside it (in
``Account.private``), so a coupon deleted later still prices the discounts made from it, as in
Stripe. Stripe has no endpoint that reads a discount by id: it is seen on its customer,
subscription or invoice.
"""

import copy
from typing import Any

from doubles.stripe.core import Call, add_interval, field_is
from doubles.stripe.disputes import DisputesApi
from doubles.stripe.invoice_objects import new_discount
from doubles.stripe.line_objects import (
    adhoc_price,
    invoice_line,
    line_source,
    new_invoiceitem,
    price_amount,
)
from doubles.stripe.objects import deleted_stub
from doubles.stripe.wire import as_bool, as_int, check_keys, invalid, missing_parameter

_ITEM_PARAMS = (
    *("customer", "amount", "currency", "description", "price", "quantity", "unit_amount"),
    *("invoice", "period", "discountable", "metadata", "expand"),
)

Applied = list[tuple[dict[str, Any], dict[str, Any]]]  # (discount, the coupon it redeemed)


class InvoiceItemsApi(DisputesApi):
    """Invoice items, discounts, and the currency a customer bills in."""

    def _relined(self, call: Call, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        """Give a draft invoice new lines (the invoices layer provides it)."""
        raise NotImplementedError

    def _settle_currency(
        self, call: Call, customer: dict[str, Any], currency: str, param: str
    ) -> None:
        """A customer bills in one currency while it has anything running in it, as in Stripe."""
        current = customer["currency"]
        if current and current != currency and self._bills_in(call, customer["id"], current):
            raise invalid(
                "You cannot combine currencies on a single customer. This customer has an active "
                "subscription, subscription schedule, discount, quote, or invoice item with "
                f"currency {current}.",
                param,
            )
        customer["currency"] = currency  # Stripe sets it silently (no customer.updated)

    @staticmethod
    def _bills_in(call: Call, customer_id: str, currency: str) -> bool:
        objects = call.account.objects
        running = [
            *(s for s in objects["subscription"].values() if s["ended_at"] is None),
            *(i for i in objects["invoiceitem"].values() if i["invoice"] is None),
        ]
        return any(o["customer"] == customer_id and o["currency"] == currency for o in running)

    # -- discounts -----------------------------------------------------------------------------

    def _discount(
        self,
        call: Call,
        customer_id: str,
        subscription: str | None,
        coupon_id: str,
        param: str,
    ) -> dict[str, Any]:
        """A discount applying ``coupon_id`` from now, counted as one redemption of it."""
        coupon = self._redeemable(call, coupon_id, param)
        start = self._now()
        months = coupon["duration_in_months"]
        end = add_interval(start, "month", months) if coupon["duration"] == "repeating" else None
        coupon["times_redeemed"] += 1  # silently: Stripe sends no coupon.updated for it
        if coupon["max_redemptions"] is not None:
            coupon["valid"] = coupon["times_redeemed"] < coupon["max_redemptions"]
        discount = new_discount(coupon, customer_id, subscription, start, end)
        call.account.private[discount["id"]]["coupon"] = copy.deepcopy(coupon)
        return self._put(call, "discount", discount)

    @staticmethod
    def _coupon_of(call: Call, discount: dict[str, Any]) -> dict[str, Any]:
        coupon: dict[str, Any] = call.account.private[discount["id"]]["coupon"]
        return coupon

    @staticmethod
    def _ended_discount(call: Call, discount_id: str) -> dict[str, Any]:
        """A discount that stopped applying, as its customer.discount.deleted event shows it."""
        return {**copy.deepcopy(call.account.objects["discount"][discount_id]), "deleted": True}

    def _applied(self, call: Call, discount_ids: list[str]) -> Applied:
        found = [call.account.objects["discount"][d] for d in discount_ids]
        return [(d, self._coupon_of(call, d)) for d in found]

    # -- invoice items -------------------------------------------------------------------------

    def create_invoiceitem(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _ITEM_PARAMS)
        if not params.get("customer"):
            raise missing_parameter("customer")
        customer = self._get(call.account, "customer", str(params["customer"]), "customer")
        quantity = as_int(params.get("quantity", 1), "quantity")
        if params.get("price"):
            price = copy.deepcopy(self._get(call.account, "price", str(params["price"]), "price"))
            tiers = call.account.private[price["id"]].get("tiers")
            amount = price_amount(price, tiers, quantity)
        else:
            if params.get("amount") in (None, "") and params.get("unit_amount") in (None, ""):
                raise missing_parameter("amount")
            if not params.get("currency"):
                raise missing_parameter("currency")
            unit = params.get("unit_amount")
            if unit in (None, ""):
                amount, unit, quantity = as_int(params["amount"], "amount"), None, 1
            else:
                unit = as_int(unit, "unit_amount")
                amount = unit * quantity
            price = adhoc_price(
                self._now(), call.account.livemode, str(params["currency"]).lower(), unit or amount
            )
        self._settle_currency(call, customer, price["currency"], "currency")
        now = self._now()
        item = new_invoiceitem(params, customer["id"], price, now, call.account.livemode)
        item.update({"amount": amount, "net_amount": amount, "quantity": quantity})
        item["quantity_decimal"] = str(quantity)
        call.account.private[item["id"]]["price"] = price
        if item["description"] is None:
            product = call.account.objects["product"].get(price["product"])
            item["description"] = product["name"] if product else None
        invoice = None
        if params.get("invoice"):
            invoice = self._get(call.account, "invoice", str(params["invoice"]), "invoice")
            if invoice["status"] != "draft" or invoice["customer"] != customer["id"]:
                message = "You can only add invoice items to draft invoices of the same customer."
                raise invalid(message, "invoice")
            item["invoice"] = invoice["id"]
        self._put(call, "invoiceitem", item)
        self._emit(call, "invoiceitem.created", item)
        if invoice is not None:
            line = self._item_line(call, item)
            line["invoice"] = invoice["id"]
            self._relined(call, invoice, [*invoice["lines"]["data"], line])
        return copy.deepcopy(item)

    @staticmethod
    def _item_line(call: Call, item: dict[str, Any]) -> dict[str, Any]:
        price = call.account.private[item["id"]]["price"]
        return invoice_line(
            item, price, item["amount"], item["quantity"], item["period"], item["description"]
        )

    def get_invoiceitem(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "invoiceitem", object_id))

    def delete_invoiceitem(self, call: Call, object_id: str) -> dict[str, Any]:
        item = self._get(call.account, "invoiceitem", object_id)
        if item["invoice"] is not None:
            invoice = call.account.objects["invoice"][item["invoice"]]
            if invoice["status"] != "draft":
                raise invalid("You can only delete invoice items of draft invoices.")
            lines = [x for x in invoice["lines"]["data"] if line_source(x) != object_id]
            self._relined(call, invoice, lines)
        del call.account.objects["invoiceitem"][object_id]
        self._emit(call, "invoiceitem.deleted", item)
        return deleted_stub(object_id, "invoiceitem")

    def list_invoiceitems(self, call: Call) -> dict[str, Any]:
        filters = {
            "customer": field_is("customer"),
            "invoice": field_is("invoice"),
            "pending": lambda item, v: (item["invoice"] is None) == as_bool(v, "pending"),
        }
        return self._list(call, "invoiceitem", "/v1/invoiceitems", filters)
