"""Invoices of the Stripe double: totals, discounts, finalizing and paying.

An invoice moves draft -> open -> paid (or void / uncollectible) with Stripe's events. A failed
automatic payment is retried 3, 8 and 15 days after the first failure (``next_payment_attempt``);
the subscription layer decides what a failure or a payment means for its subscription.
"""

import copy
from typing import Any

from doubles.stripe.core import Call, field_is, list_object, one_of
from doubles.stripe.invoice_items import Applied
from doubles.stripe.invoice_objects import (
    apply_invoice,
    invoice_subscription,
    new_invoice,
    subscription_parent,
    totals,
)
from doubles.stripe.invoice_payments import InvoicePaymentsApi
from doubles.stripe.objects import deleted_stub
from doubles.stripe.payments import card_error
from doubles.stripe.wire import as_bool, check_keys, invalid, missing_parameter, page, random_id

RETRY_DAYS = (3, 5, 7)  # days between automatic retries of a failed invoice payment
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


class InvoicingApi(InvoicePaymentsApi):
    """Invoices and their payments; hooks let the subscription layer follow its invoices."""

    def _invoice_paid(self, call: Call, invoice: dict[str, Any]) -> None:
        """An invoice was paid (subscriptions react to it)."""

    def _invoice_failed(self, call: Call, invoice: dict[str, Any], final: bool) -> None:
        """An automatic payment failed; ``final`` once no retry is left."""

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
        discounts: Applied | None = None,
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
            invoice["parent"] = subscription_parent(subscription)
        apply_invoice(invoice, params or {}, now)
        totals(invoice, discounts or [])
        for discount, _ in discounts or []:
            if discount["subscription"] is None:
                discount["invoice"] = invoice_id
        self._put(call, "invoice", invoice)
        self._emit(call, "invoice.created", invoice)
        return invoice

    def _relined(self, call: Call, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        before = copy.deepcopy(invoice)
        invoice["lines"] = list_object(lines, f"/v1/invoices/{invoice['id']}/lines")
        totals(invoice, self._applied(call, invoice["discounts"]))
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
        made = [
            self._discount(call, customer["id"], None, str(entry.get("coupon")), f"discounts[{i}]")
            for i, entry in enumerate(params.get("discounts") or [])
            if isinstance(entry, dict) and entry.get("coupon")
        ]
        lines = [self._item_line(call, item) for item in pending]
        invoice = self._new_invoice(
            call,
            customer,
            lines,
            reason="manual",
            currency=currency,
            discounts=[(d, self._coupon_of(call, d)) for d in made],
            params=params,
        )
        for item in pending:
            item["invoice"] = invoice["id"]
        return copy.deepcopy(invoice)

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
            "subscription": lambda invoice, v: invoice_subscription(invoice) == v,
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
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "next_payment_attempt": None,
            }
        )
        invoice["status_transitions"]["paid_at"] = now
        payment = self._payment(call, invoice)
        if payment is not None and not out_of_band:
            payment.update({"amount_paid": invoice["amount_paid"], "status": "paid"})
            payment["status_transitions"]["paid_at"] = now
        self._emit(call, "invoice.paid", invoice)
        if not out_of_band:
            self._emit(call, "invoice.payment_succeeded", invoice)
        if payment is not None and not out_of_band:
            self._emit(call, "invoice_payment.paid", payment)
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
            payment = self._payment(call, invoice)
            raise card_error(decline, payment["payment"]["charge"] if payment else None)
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
            description=description,
            decline=decline,
        )
        self._paying(call, invoice, charge)
        invoice["attempted"] = True
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

    # -- void, uncollectible -----------------------------------------------------------------

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
