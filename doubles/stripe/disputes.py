"""Disputes of the Stripe double: a cardholder's bank disputes a charge, the dispute closes.

A dispute has no public API to be opened: in test mode Stripe's test cards open one
(https://docs.stripe.com/testing#disputes); here ``dispute_charge`` stands for the bank, and
``settle_dispute`` for the bank's verdict. Through the API a dispute is read (``GET
/v1/disputes``, filtered by ``charge``) and accepted (``POST /v1/disputes/{id}/close``, which loses
it). Events, as Stripe sends them: ``charge.dispute.created`` (the charge turns ``disputed``),
``charge.dispute.closed`` (``won`` or ``lost``), ``charge.dispute.funds_reinstated`` when won.
https://docs.stripe.com/api/disputes/object
"""

import copy
from typing import Any

from doubles.stripe.core import Call, field_is
from doubles.stripe.payments import PaymentsApi
from doubles.stripe.wire import check_keys, invalid, random_id

_EVIDENCE = (
    *("access_activity_log", "billing_address", "cancellation_policy"),
    *("cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication"),
    *("customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature"),
    *("duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id"),
    *("product_description", "receipt", "refund_policy", "refund_policy_disclosure"),
    *("refund_refusal_explanation", "service_date", "service_documentation", "shipping_address"),
    *("shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number"),
    *("uncategorized_file", "uncategorized_text"),
)
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
REASONS = ("fraudulent", "duplicate", "product_not_received", "subscription_canceled", "general")
_EVIDENCE_DAYS = 21  # the usual time to answer a dispute


class DisputesApi(PaymentsApi):
    """Disputes of charges."""

    def open_dispute(self, call: Call, charge_id: str, reason: str) -> dict[str, Any]:
        charge = self._get(call.account, "charge", charge_id, "charge")
        if charge["status"] != "succeeded" or not charge["captured"] or charge["disputed"]:
            raise invalid(f"Charge {charge_id} cannot be disputed.", "charge")
        if reason not in REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", "reason")
        now = self._now()
        dispute = {
            "id": random_id("dp_", 24),
            "object": "dispute",
            "amount": charge["amount_captured"] - charge["amount_refunded"],
            "balance_transactions": [],
            "charge": charge_id,
            "created": now,
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {**dict.fromkeys(_EVIDENCE), "enhanced_evidence": {}},
            "evidence_details": {
                "due_by": now + _EVIDENCE_DAYS * 86_400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": call.account.livemode,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": "visa",
                    "case_type": "chargeback",
                    "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
                },
                "type": "card",
            },
            "reason": reason,
            "status": "needs_response",
        }
        charge["disputed"] = True  # shown by charge.dispute.created, no charge.updated
        self._put(call, "dispute", dispute)
        self._emit(call, "charge.dispute.created", dispute)
        return copy.deepcopy(dispute)

    def settle(self, call: Call, dispute_id: str, outcome: str) -> dict[str, Any]:
        """The bank's verdict: ``won`` or ``lost``."""
        dispute = self._get(call.account, "dispute", dispute_id)
        if dispute["status"] not in OPEN:
            raise invalid(f"Dispute {dispute_id} is already closed.")
        if outcome not in ("won", "lost"):
            raise invalid("A dispute closes as won or lost.")
        dispute["status"] = outcome
        self._emit(call, "charge.dispute.closed", dispute)
        if outcome == "won":
            self._emit(call, "charge.dispute.funds_reinstated", dispute)
        return copy.deepcopy(dispute)

    def get_dispute(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "dispute", object_id))

    def list_disputes(self, call: Call) -> dict[str, Any]:
        filters = {"charge": field_is("charge"), "payment_intent": field_is("payment_intent")}
        return self._list(call, "dispute", "/v1/disputes", filters)

    def close_dispute(self, call: Call, object_id: str) -> dict[str, Any]:
        """Accepting the dispute: it is lost."""
        check_keys(call.params, ("expand",))
        return self.settle(call, object_id, "lost")
