"""Invoice payments of the Stripe double: how an invoice was (or is being) paid.

Since 2025-03-31.basil an invoice no longer names its charge or payment intent (``charge``,
``payment_intent`` and ``paid`` are gone): its payments are invoice payments, listed with
``GET /v1/invoice_payments?invoice=...`` and shown on the invoice only with ``expand[]=payments``
(https://docs.stripe.com/api/invoice-payment). The double has no payment intents, so an invoice's
one default payment names the charge of its latest attempt (``payment.type`` ``charge``).
"""

import copy
from typing import Any

from doubles.stripe.core import Call, field_is
from doubles.stripe.invoice_items import InvoiceItemsApi
from doubles.stripe.wire import random_id


class InvoicePaymentsApi(InvoiceItemsApi):
    """An invoice's default payment, and reading payments."""

    def _paying(self, call: Call, invoice: dict[str, Any], charge: dict[str, Any]) -> None:
        """The invoice's default payment, now made with ``charge`` (each attempt's own charge,
        as the double has no payment intents: ``payment.type`` is ``charge``)."""
        payment = self._payment(call, invoice)
        if payment is None:
            payment = {
                "id": random_id("inpay_", 24),
                "object": "invoice_payment",
                "amount_paid": None,
                "amount_requested": invoice["amount_due"],
                "created": self._now(),
                "currency": invoice["currency"],
                "invoice": invoice["id"],
                "is_default": True,
                "livemode": call.account.livemode,
                "payment": {"charge": charge["id"], "type": "charge"},
                "status": "open",
                "status_transitions": {"canceled_at": None, "paid_at": None},
            }
            self._put(call, "invoice_payment", payment)
        payment["payment"]["charge"] = charge["id"]

    @staticmethod
    def _payment(call: Call, invoice: dict[str, Any]) -> dict[str, Any] | None:
        for payment in call.account.objects["invoice_payment"].values():
            if payment["invoice"] == invoice["id"]:
                return payment
        return None

    def get_invoice_payment(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "invoice_payment", object_id))

    def list_invoice_payments(self, call: Call) -> dict[str, Any]:
        filters = {"invoice": field_is("invoice"), "status": field_is("status")}
        return self._list(call, "invoice_payment", "/v1/invoice_payments", filters)
