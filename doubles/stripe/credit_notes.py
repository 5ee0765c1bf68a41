"""Credit notes of the Stripe double: money taken off a finalized invoice, and voiding them.

https://docs.stripe.com/api/credit_notes/create: on an ``open`` invoice a credit note is
``pre_payment`` and lowers what is due (``pre_payment_credit_notes_amount``); on a ``paid`` one it
is ``post_payment`` and is split into ``refund_amount`` (a refund of the invoice's charge, with
its refund.created and charge.refunded events), ``credit_amount`` (to the customer's balance) and
``out_of_band_amount``. The double takes ``amount`` (or the sum of custom ``lines``) and, after
payment, those three parts; per-line credits of an invoice's own lines and taxes are not modelled.
Voiding (``POST /v1/credit_notes/{id}/void``) gives a pre-payment credit back to the invoice; a
post-payment credit note that refunded money cannot be voided (the refund stands), as in Stripe.
Events: credit_note.created, credit_note.updated (memo, metadata), credit_note.voided.
"""

import copy
from typing import Any

from doubles.stripe.core import Call, field_is, list_object, text
from doubles.stripe.invoicing import InvoicingApi
from doubles.stripe.wire import (
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
    page,
    random_id,
)

_CREATE = (
    *("invoice", "amount", "lines", "memo", "metadata", "reason", "refund_amount"),
    *("credit_amount", "out_of_band_amount", "effective_at", "email_type", "expand"),
)
_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


class CreditNotesApi(InvoicingApi):
    """Credit notes of invoices."""

    def create_credit_note(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _CREATE)
        if not params.get("invoice"):
            raise missing_parameter("invoice")
        invoice = self._get(call.account, "invoice", str(params["invoice"]), "invoice")
        if invoice["status"] not in ("open", "paid"):
            message = "You can only create a credit note on an open or paid invoice."
            raise invalid(message, "invoice")
        lines = self._credit_lines(call, params.get("lines"))
        amount = as_int(params.get("amount", sum(line["amount"] for line in lines)), "amount")
        if amount <= 0:
            raise missing_parameter("amount")
        if not lines:
            lines = [_custom_line(call, amount, "Credit")]
        parts = {k: as_int(params.get(k, 0), k) for k in _PARTS}
        post = invoice["status"] == "paid"
        if post:
            if not any(parts.values()):
                parts["refund_amount" if self._payment(call, invoice) else "credit_amount"] = amount
            if sum(parts.values()) != amount:
                message = (
                    "The sum of refund_amount, credit_amount and out_of_band_amount must equal "
                    "the credit note amount."
                )
                raise invalid(message, "amount")
            self._check_room(invoice, amount, "post_payment_credit_notes_amount", "amount_paid")
        else:
            if any(parts.values()):
                message = "A credit note on an unpaid invoice can only reduce its amount due."
                raise invalid(message, "refund_amount")
            self._check_room(invoice, amount, "pre_payment_credit_notes_amount", "amount_due")
        note = self._new_note(call, invoice, amount, lines, params, post)
        note["out_of_band_amount"] = parts["out_of_band_amount"] or None
        if parts["refund_amount"]:
            payment = self._payment(call, invoice)
            if payment is None:
                raise invalid("This invoice has no payment to refund.", "refund_amount")
            charge = call.account.objects["charge"][payment["payment"]["charge"]]
            refund = self._refund(call, charge, parts["refund_amount"], None, {})
            note["refunds"] = [
                {"amount_refunded": refund["amount"], "refund": refund["id"], "type": "refund"}
            ]
        self._credit_invoice(call, invoice, note, amount)
        self._put(call, "credit_note", note)
        self._emit(call, "credit_note.created", note)
        return copy.deepcopy(note)

    @staticmethod
    def _check_room(invoice: dict[str, Any], amount: int, used: str, total: str) -> None:
        left = invoice[total] - (invoice[used] if total == "amount_paid" else 0)
        if amount > left:
            message = f"The credit note amount ({amount}) exceeds the invoice's remaining {left}."
            raise invalid(message, "amount")

    def _credit_lines(self, call: Call, value: Any) -> list[dict[str, Any]]:
        lines = []
        for index, entry in enumerate(as_list(value, "lines") if value else []):
            prefix = f"lines[{index}]"
            if not isinstance(entry, dict) or entry.get("type") != "custom_line_item":
                message = "The double takes only custom_line_item credit note lines."
                raise invalid(message, f"{prefix}[type]")
            unit = as_int(entry.get("unit_amount", 0), f"{prefix}[unit_amount]")
            quantity = as_int(entry.get("quantity", 1), f"{prefix}[quantity]")
            line = _custom_line(call, unit * quantity, text(entry.get("description")))
            line.update({"quantity": quantity, "unit_amount": unit})
            line["unit_amount_decimal"] = str(unit)
            lines.append(line)
        return lines

    def _new_note(
        self,
        call: Call,
        invoice: dict[str, Any],
        amount: int,
        lines: list[dict[str, Any]],
        params: dict[str, Any],
        post: bool,
    ) -> dict[str, Any]:
        note_id = random_id("cn_", 24)
        count = 1 + sum(
            1 for n in call.account.objects["credit_note"].values() if n["invoice"] == invoice["id"]
        )
        reason = params.get("reason") or None
        if reason is not None and reason not in _REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(_REASONS)}", "reason")
        return {
            "id": note_id,
            "object": "credit_note",
            "amount": amount,
            "amount_shipping": 0,
            "created": self._now(),
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "customer_account": None,
            "customer_balance_transaction": None,
            "discount_amount": 0,
            "discount_amounts": [],
            "effective_at": self._now(),
            "invoice": invoice["id"],
            "lines": list_object(lines, f"/v1/credit_notes/{note_id}/lines"),
            "livemode": call.account.livemode,
            "memo": text(params.get("memo")),
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "number": f"{invoice['number']}-CN-{count:02d}",
            "out_of_band_amount": None,
            "pdf": f"https://pay.stripe.com/credit_notes/{call.account.url_id}/{note_id}/pdf",
            "post_payment_amount": amount if post else 0,
            "pre_payment_amount": 0 if post else amount,
            "pretax_credit_amounts": [],
            "reason": reason,
            "refunds": [],
            "shipping_cost": None,
            "status": "issued",
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "total": amount,
            "total_excluding_tax": amount,
            "total_taxes": [],
            "type": "post_payment" if post else "pre_payment",
            "voided_at": None,
        }

    def _credit_invoice(
        self, call: Call, invoice: dict[str, Any], note: dict[str, Any], amount: int
    ) -> None:
        """The invoice's view of a credit note (``amount`` < 0 gives it back); a pre-payment
        credit that leaves nothing due pays the invoice, as in Stripe."""
        before = copy.deepcopy(invoice)
        if note["type"] == "post_payment":
            invoice["post_payment_credit_notes_amount"] += amount
        else:
            invoice["pre_payment_credit_notes_amount"] += amount
            due = invoice["total"] - invoice["pre_payment_credit_notes_amount"]
            invoice["amount_due"] = max(due, 0)
            invoice["amount_remaining"] = max(due - invoice["amount_paid"], 0)
        self._changed(call, "invoice.updated", before, invoice)
        if invoice["status"] == "open" and invoice["amount_remaining"] == 0:
            self._mark_paid(call, invoice, out_of_band=True)

    def get_credit_note(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "credit_note", object_id))

    def list_credit_notes(self, call: Call) -> dict[str, Any]:
        filters = {"invoice": field_is("invoice"), "customer": field_is("customer")}
        return self._list(call, "credit_note", "/v1/credit_notes", filters)

    def list_credit_note_lines(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("limit", "starting_after", "ending_before", "expand"))
        lines = self._get(call.account, "credit_note", object_id)["lines"]
        return page(copy.deepcopy(lines["data"]), call.params, lines["url"], "credit note line")

    def update_credit_note(self, call: Call, object_id: str) -> dict[str, Any]:
        return self._edit(call, "credit_note", object_id, ("memo",), "credit_note.updated")

    def void_credit_note(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("expand",))
        note = self._get(call.account, "credit_note", object_id)
        if note["status"] == "void":
            raise invalid("This credit note is already void.")
        if note["refunds"]:
            raise invalid("A credit note that refunded a payment cannot be voided.")
        note.update({"status": "void", "voided_at": self._now()})
        invoice = call.account.objects["invoice"][note["invoice"]]
        if invoice["status"] != "paid" or note["type"] == "post_payment":
            self._credit_invoice(call, invoice, note, -note["amount"])
        self._emit(call, "credit_note.voided", note)
        return copy.deepcopy(note)


_PARTS = ("refund_amount", "credit_amount", "out_of_band_amount")


def _custom_line(call: Call, amount: int, description: str | None) -> dict[str, Any]:
    return {
        "id": random_id("cnli_", 24),
        "object": "credit_note_line_item",
        "amount": amount,
        "description": description,
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": None,
        "livemode": call.account.livemode,
        "metadata": {},
        "pretax_credit_amounts": [],
        "quantity": 1,
        "tax_rates": [],
        "taxes": [],
        "type": "custom_line_item",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }
