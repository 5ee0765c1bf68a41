"""Invoices and invoice items of the Stripe double: totals, discounts, finalizing and paying.

An invoice moves draft -> open -> paid (or void / uncollectible) with Stripe's events. A failed
automatic payment is retried 3, 8 and 15 days after the first failure (``next_payment_attempt``);
the subscription layer decides what a failure or a payment means for its subscription.
"""

import copy
from typing import Any

from doubles.stripe.core import Call, add_interval, field_is, list_object, one_of
from doubles.stripe.invoice_objects import (
    adhoc_price,
    apply_invoice,
    invoice_line,
    new_discount,
    new_invoice,
    new_invoiceitem,
    price_amount,
    totals,
)
from doubles.stripe.objects import deleted_stub
from doubles.stripe.payments import PaymentsApi, card_error
from doubles.stripe.wire import (
    as_bool,
    as_int,
    check_keys,
    invalid,
    missing_parameter,
    page,
    random_id,
)

RETRY_DAYS = (3, 5, 7)  # days between automatic retries of a failed invoice payment
_ITEM_PARAMS = (
    *("customer", "amount", "currency", "description", "price", "quantity", "unit_amount"),
    *("invoice", "period", "discountable", "metadata", "expand"),
)
_INVOICE_PARAMS = (
    *("customer", "collection_method", "days_until_due", "due_date", "description", "metadata"),
    *("pending_invoice_items_behavior", "discounts", "currency", "auto_advance", "footer"),
    "expand",
)
_CHARGE_DESCRIPTION = {
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription update",
    "subscription_update": "Subscription update",
}


class InvoicingApi(PaymentsApi):
    """Invoice items and invoices; hooks let the subscription layer follow its invoices."""

    def _invoice_paid(self, call: Call, invoice: dict[str, Any]) -> None:
        """An invoice was paid (subscriptions react to it)."""

    def _invoice_failed(self, call: Call, invoice: dict[str, Any], final: bool) -> None:
        """An automatic payment failed; ``final`` once no retry is left."""

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
        item.update({"amount": amount, "quantity": quantity})
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
            self._relined(call, invoice, [*invoice["lines"]["data"], self._item_line(item)])
        return copy.deepcopy(item)

    @staticmethod
    def _item_line(item: dict[str, Any]) -> dict[str, Any]:
        return invoice_line(
            item, item["amount"], item["quantity"], item["period"], item["description"]
        )

    def get_invoiceitem(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "invoiceitem", object_id))

    def delete_invoiceitem(self, call: Call, object_id: str) -> dict[str, Any]:
        item = self._get(call.account, "invoiceitem", object_id)
        if item["invoice"] is not None:
            invoice = call.account.objects["invoice"][item["invoice"]]
            if invoice["status"] != "draft":
                raise invalid("You can only delete invoice items of draft invoices.")
            lines = [x for x in invoice["lines"]["data"] if x.get("invoice_item") != object_id]
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

    # -- invoices ------------------------------------------------------------------------------

    def _new_invoice(
        self,
        call: Call,
        customer: dict[str, Any],
        lines: list[dict[str, Any]],
        *,
        reason: str,
        currency: str,
        subscription: dict[str, Any] | None = None,
        discounts: list[dict[str, Any]] | None = None,
        period: tuple[int, int] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A draft invoice of ``lines``, recorded with invoice.created."""
        now = self._now()
        invoice_id = random_id("in_", 24)
        start, end = period or (now, now)
        invoice = new_invoice(invoice_id, now, customer, lines, call.account.livemode)
        invoice.update({"billing_reason": reason, "currency": currency, "period_end": end})
        invoice.update({"period_start": start, "auto_advance": subscription is not None})
        if subscription is not None:
            invoice["subscription"] = subscription["id"]
            invoice["subscription_details"]["metadata"] = dict(subscription["metadata"])
        apply_invoice(invoice, params or {}, now)
        totals(invoice, discounts or [])
        for discount in discounts or []:
            if discount["subscription"] is None:
                discount["invoice"] = invoice_id
        self._put(call, "invoice", invoice)
        self._emit(call, "invoice.created", invoice)
        return invoice

    def _relined(self, call: Call, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        before = copy.deepcopy(invoice)
        invoice["lines"] = list_object(lines, f"/v1/invoices/{invoice['id']}/lines")
        discounts = [call.account.objects["discount"][d] for d in invoice["discounts"]]
        totals(invoice, discounts)
        self._changed(call, "invoice.updated", before, invoice)

    def create_invoice(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _INVOICE_PARAMS)
        if not params.get("customer"):
            raise missing_parameter("customer")
        customer = self._get(call.account, "customer", str(params["customer"]), "customer")
        behavior = one_of(
            params.get("pending_invoice_items_behavior", "exclude"),
            ("exclude", "include"),
            "pending_invoice_items_behavior",
        )
        pending = [
            item
            for item in call.account.objects["invoiceitem"].values()
            if item["customer"] == customer["id"] and item["invoice"] is None
        ]
        pending = pending if behavior == "include" else []
        currency = str(
            params.get("currency")
            or (pending and pending[0]["currency"])
            or customer["currency"]
            or "usd"
        ).lower()
        discounts = [
            self._discount(call, customer["id"], None, str(entry.get("coupon")), f"discounts[{i}]")
            for i, entry in enumerate(params.get("discounts") or [])
            if isinstance(entry, dict) and entry.get("coupon")
        ]
        lines = [self._item_line(item) for item in pending]
        invoice = self._new_invoice(
            call,
            customer,
            lines,
            reason="manual",
            currency=currency,
            discounts=discounts,
            params=params,
        )
        for item in pending:
            item["invoice"] = invoice["id"]
        return copy.deepcopy(invoice)

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
        return self._put(call, "discount", discount)

    def get_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "invoice", object_id))

    def update_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        allowed = ("description", "metadata", "footer", "auto_advance", "days_until_due")
        check_keys(call.params, (*allowed, "due_date", "collection_method", "expand"))
        before = self._get(call.account, "invoice", object_id)
        after = copy.deepcopy(before)
        apply_invoice(after, call.params, self._now())
        call.account.objects["invoice"][object_id] = after
        return copy.deepcopy(self._changed(call, "invoice.updated", before, after))

    def delete_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        invoice = self._get(call.account, "invoice", object_id)
        if invoice["status"] != "draft":
            raise invalid("You can only delete draft invoices.")
        for item in call.account.objects["invoiceitem"].values():
            if item["invoice"] == object_id:
                item["invoice"] = None  # back to pending, as Stripe does
        del call.account.objects["invoice"][object_id]
        self._emit(call, "invoice.deleted", invoice)
        return deleted_stub(object_id, "invoice")

    def list_invoices(self, call: Call) -> dict[str, Any]:
        filters = {
            "customer": field_is("customer"),
            "subscription": field_is("subscription"),
            "status": field_is("status"),
            "collection_method": field_is("collection_method"),
        }
        return self._list(call, "invoice", "/v1/invoices", filters)

    def list_invoice_lines(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("limit", "starting_after", "ending_before", "expand"))
        lines = self._get(call.account, "invoice", object_id)["lines"]["data"]
        return page(copy.deepcopy(lines), call.params, f"/v1/invoices/{object_id}/lines", "line")

    def finalize_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("auto_advance", "expand"))
        invoice = self._get(call.account, "invoice", object_id)
        if invoice["status"] != "draft":
            message = (
                "This invoice is already finalized, you can't re-finalize a non-draft invoice."
            )
            raise invalid(message)
        if "auto_advance" in call.params:
            invoice["auto_advance"] = as_bool(call.params["auto_advance"], "auto_advance")
        self._finalize(call, invoice)
        return copy.deepcopy(invoice)

    def _finalize(self, call: Call, invoice: dict[str, Any]) -> None:
        now = self._now()
        customer = call.account.customers.get(invoice["customer"]) or {}
        sequence = customer.get("next_invoice_sequence", 1)
        if customer:
            customer["next_invoice_sequence"] = sequence + 1  # silently, as Stripe does
        secret = random_id("test_", 40) if not call.account.livemode else random_id("live_", 40)
        hosted = f"https://invoice.stripe.com/i/{call.account.url_id}/{secret}?s=ap"
        invoice.update(
            {
                "status": "open",
                "number": f"{customer.get('invoice_prefix', 'INVOICE')}-{sequence:04d}",
                "hosted_invoice_url": hosted,
                "invoice_pdf": f"https://pay.stripe.com/invoice/{call.account.url_id}/{secret}/pdf?s=ap",
                "effective_at": now,
                "ending_balance": 0,
            }
        )
        invoice["status_transitions"]["finalized_at"] = now
        if invoice["collection_method"] == "charge_automatically" and invoice["auto_advance"]:
            invoice["next_payment_attempt"] = now + 3600  # Stripe charges about an hour later
        self._emit(call, "invoice.finalized", invoice)
        if invoice["amount_due"] == 0:
            self._mark_paid(call, invoice)

    def _mark_paid(self, call: Call, invoice: dict[str, Any], out_of_band: bool = False) -> None:
        now = self._now()
        invoice.update(
            {
                "status": "paid",
                "paid": True,
                "paid_out_of_band": out_of_band,
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "next_payment_attempt": None,
            }
        )
        invoice["status_transitions"]["paid_at"] = now
        self._emit(call, "invoice.paid", invoice)
        if not out_of_band:
            self._emit(call, "invoice.payment_succeeded", invoice)
        self._invoice_paid(call, invoice)

    def pay_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        allowed = ("paid_out_of_band", "payment_method", "source", "forgive", "off_session")
        check_keys(call.params, (*allowed, "expand", "mandate"))
        invoice = self._get(call.account, "invoice", object_id)
        if invoice["status"] == "paid":
            raise invalid("Invoice is already paid")
        if invoice["status"] in ("void",):
            raise invalid("This invoice is void and can no longer be paid.")
        if invoice["status"] == "draft":
            self._finalize(call, invoice)  # /pay finalizes a draft first, as Stripe does
            if invoice["status"] == "paid":
                return copy.deepcopy(invoice)
        if as_bool(call.params.get("paid_out_of_band", False), "paid_out_of_band"):
            self._mark_paid(call, invoice, out_of_band=True)
            return copy.deepcopy(invoice)
        method = call.params.get("payment_method") or call.params.get("source")
        decline = self._attempt(call, invoice, method)
        if decline is not None:
            raise card_error(decline, invoice["charge"])
        return copy.deepcopy(invoice)

    def _attempt(self, call: Call, invoice: dict[str, Any], method: Any = None) -> str | None:
        """Charge the invoice's amount due; the decline code when the payment fails."""
        decline = self._decline(call, invoice["customer"], method)
        description = _CHARGE_DESCRIPTION.get(invoice["billing_reason"], "Payment for Invoice")
        charge = self._charge(
            call,
            invoice["customer"],
            invoice["amount_due"],
            invoice["currency"],
            invoice=invoice["id"],
            description=description,
            decline=decline,
        )
        invoice.update({"charge": charge["id"], "attempted": True})
        invoice["attempt_count"] += 1
        if decline is None:
            self._mark_paid(call, invoice)
            return None
        retry = invoice["attempt_count"] - 1
        final = not invoice["auto_advance"] or retry >= len(RETRY_DAYS)
        invoice["next_payment_attempt"] = (
            None if final else self._now() + RETRY_DAYS[retry] * 86_400
        )
        self._emit(call, "invoice.payment_failed", invoice)
        self._invoice_failed(call, invoice, final)
        return decline

    def void_invoice(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("expand",))
        invoice = self._get(call.account, "invoice", object_id)
        if invoice["status"] not in ("open", "uncollectible"):
            raise invalid(
                f"You can only void `open` or `uncollectible` invoices. This invoice is "
                f"`{invoice['status']}`."
            )
        self._void(call, invoice)
        return copy.deepcopy(invoice)

    def _void(self, call: Call, invoice: dict[str, Any]) -> None:
        invoice.update({"status": "void", "next_payment_attempt": None, "amount_remaining": 0})
        invoice["status_transitions"]["voided_at"] = self._now()
        self._emit(call, "invoice.voided", invoice)

    def mark_uncollectible(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("expand",))
        invoice = self._get(call.account, "invoice", object_id)
        if invoice["status"] != "open":
            status = invoice["status"]
            message = f"You can only mark `open` invoices uncollectible. This one is `{status}`."
            raise invalid(message)
        self._uncollectible(call, invoice)
        return copy.deepcopy(invoice)

    def _uncollectible(self, call: Call, invoice: dict[str, Any]) -> None:
        invoice.update({"status": "uncollectible", "next_payment_attempt": None})
        invoice["status_transitions"]["marked_uncollectible_at"] = self._now()
        self._emit(call, "invoice.marked_uncollectible", invoice)
