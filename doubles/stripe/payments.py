"""Charges and refunds of the Stripe double, and how a payment succeeds or is declined.

Every payment succeeds unless the customer's next payment was set to fail (``fail_next_payment``)
or the request names one of Stripe's declining test cards (``pm_card_chargeDeclined``...). A charge
shows its ``refunds`` only when expanded, as Stripe does since API version 2022-11-15.
"""

import copy
from typing import Any

from doubles.stripe.catalog import CatalogApi
from doubles.stripe.core import ZERO_DECIMAL, Call, field_is, one_of, text
from doubles.stripe.wire import (
    StripeError,
    as_bool,
    as_int,
    check_keys,
    invalid,
    merge_metadata,
    previous_attributes,
    random_id,
)

# decline code -> (charge failure_code, message), as Stripe's test cards answer
DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "lost_card": ("card_declined", "Your card was declined."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
}
# Stripe's test payment methods and tokens that are declined when charged
DECLINING = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeCustomerFail": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
    "tok_chargeDeclined": "generic_decline",
    "tok_chargeCustomerFail": "generic_decline",
    "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def money(amount: int, currency: str) -> str:
    """An amount in the smallest unit as Stripe writes it in messages: $15.00, ¥1500."""
    symbol = _SYMBOLS.get(currency, currency.upper() + " ")
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount}"
    return f"{symbol}{amount / 100:.2f}"


def card_error(decline: str, charge_id: str | None) -> StripeError:
    code, message = DECLINES.get(decline, DECLINES["generic_decline"])
    error: dict[str, Any] = {
        "code": code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "type": "card_error",
    }
    if code == "card_declined":
        error["decline_code"] = decline
    if charge_id:
        error["charge"] = charge_id
    return StripeError(402, dict(sorted(error.items())))


class PaymentsApi(CatalogApi):
    """Charges, refunds, and the one place where a payment is attempted."""

    def _decline(self, call: Call, customer_id: str | None, method: Any = None) -> str | None:
        """Why the next payment fails (a decline code), or None when it goes through."""
        if isinstance(method, str) and method in DECLINING:
            return DECLINING[method]
        queued = call.account.failing.get(customer_id or "")
        if queued:
            return queued.pop(0)
        return None

    def _charge(
        self,
        call: Call,
        customer_id: str | None,
        amount: int,
        currency: str,
        *,
        description: str | None = None,
        decline: str | None = None,
        capture: bool = True,
    ) -> dict[str, Any]:
        """Create and record one charge, succeeded or failed (charge.succeeded / charge.failed);
        an uncaptured one (``capture=False``) is an authorisation: succeeded, nothing captured.
        Since 2025-03-31.basil a charge no longer names its invoice (invoice payments do)."""
        charge_id = random_id("ch_", 24)
        failed = decline is not None
        failure_code, failure_message = DECLINES.get(decline or "", (None, None))
        receipt = f"https://pay.stripe.com/receipts/payment/{random_id('', 40)}"
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if capture and not failed else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": {
                "address": dict.fromkeys(
                    ("city", "country", "line1", "line2", "postal_code", "state")
                ),
                "email": None,
                "name": None,
                "phone": None,
            },
            "calculated_statement_descriptor": "OMNIROO",
            "captured": capture and not failed,
            "created": self._now(),
            "currency": currency,
            "customer": customer_id,
            "description": description,
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": failure_code,
            "failure_message": failure_message,
            "fraud_details": {},
            "livemode": call.account.livemode,
            "metadata": {},
            "on_behalf_of": None,
            "outcome": _outcome(decline),
            "paid": not failed,
            "payment_intent": None,
            "payment_method": random_id("pm_", 24),
            "payment_method_details": {
                "card": {
                    "brand": "visa",
                    "country": "US",
                    "exp_month": 12,
                    "exp_year": 2034,
                    "funding": "credit",
                    "last4": "0002" if failed else "4242",
                },
                "type": "card",
            },
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": None if failed else receipt,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "failed" if failed else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._put(call, "charge", charge)
        self._emit(call, "charge.failed" if failed else "charge.succeeded", charge)
        return charge

    # -- charges -------------------------------------------------------------------------------

    def create_charge(self, call: Call) -> dict[str, Any]:
        params = call.params
        allowed = ("amount", "currency", "customer", "description", "source", "metadata")
        check_keys(params, (*allowed, "capture", "receipt_email", "statement_descriptor", "expand"))
        for required in ("amount", "currency"):
            if params.get(required) in (None, ""):
                raise invalid(f"Missing required param: {required}.", required, "parameter_missing")
        customer_id = text(params.get("customer"))
        if customer_id is not None:
            self._get(call.account, "customer", customer_id, "customer")
        elif not params.get("source"):
            raise invalid("Must provide source or customer.", "source", "parameter_missing")
        amount = as_int(params["amount"], "amount")
        if amount < 1:
            raise invalid("This value must be greater than or equal to 1.", "amount")
        currency = str(params["currency"]).lower()
        decline = self._decline(call, customer_id, params.get("source"))
        charge = self._charge(
            call,
            customer_id,
            amount,
            currency,
            description=text(params.get("description")),
            decline=decline,
            capture=as_bool(params.get("capture", True), "capture"),
        )
        if "metadata" in params:
            charge["metadata"] = merge_metadata({}, params["metadata"])
        if decline is not None:
            raise card_error(decline, charge["id"])
        return copy.deepcopy(charge)

    def get_charge(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "charge", object_id))

    def update_charge(self, call: Call, object_id: str) -> dict[str, Any]:
        texts = ("description", "receipt_email")
        return self._edit(call, "charge", object_id, texts, "charge.updated")

    def capture_charge(self, call: Call, object_id: str) -> dict[str, Any]:
        """Capture an authorisation; an amount below the charge's is captured and the rest
        refunded (https://docs.stripe.com/api/charges/capture)."""
        check_keys(call.params, ("amount", "receipt_email", "statement_descriptor", "expand"))
        before = self._get(call.account, "charge", object_id)
        if before["captured"] or before["status"] != "succeeded":
            message = f"Charge {object_id} has already been captured."
            raise invalid(message, code="charge_already_captured")
        amount = as_int(call.params.get("amount", before["amount"]), "amount")
        if not 0 < amount <= before["amount"]:
            raise invalid("The amount to capture must be at most the charge's amount.", "amount")
        after = copy.deepcopy(before)
        after.update({"captured": True, "amount_captured": amount})
        call.account.objects["charge"][object_id] = after
        if amount < before["amount"]:
            self._refund(call, after, before["amount"] - amount, None, {})
        self._emit(call, "charge.captured", call.account.objects["charge"][object_id])
        return copy.deepcopy(call.account.objects["charge"][object_id])

    def list_charges(self, call: Call) -> dict[str, Any]:
        filters = {
            "customer": field_is("customer"),
            "payment_intent": field_is("payment_intent"),
            "transfer_group": field_is("transfer_group"),
        }
        return self._list(call, "charge", "/v1/charges", filters)

    # -- refunds -------------------------------------------------------------------------------

    def create_refund(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, ("charge", "payment_intent", "amount", "reason", "metadata", "expand"))
        if params.get("payment_intent"):
            raise invalid(
                f"No such payment_intent: '{params['payment_intent']}'",
                "payment_intent",
                "resource_missing",
            )
        if not params.get("charge"):
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        before = self._get(call.account, "charge", str(params["charge"]), "charge")
        charge_id = before["id"]
        if before["status"] != "succeeded":
            raise invalid(f"Charge {charge_id} has not succeeded and cannot be refunded.", "charge")
        left = before["amount"] - before["amount_refunded"]
        if left == 0:
            message = f"Charge {charge_id} has already been refunded."
            raise invalid(message, "charge", "charge_already_refunded")
        amount = as_int(params.get("amount", left), "amount")
        if amount < 1:
            raise invalid("This value must be greater than or equal to 1.", "amount")
        if amount > left:
            currency = before["currency"]
            raise invalid(
                f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount on "
                f"charge ({money(left, currency)})",
                "amount",
            )
        reason = params.get("reason") or None
        if reason is not None:
            choices = ("duplicate", "fraudulent", "requested_by_customer")
            reason = one_of(reason, choices, "reason")
        metadata = merge_metadata({}, params.get("metadata", {}))
        return copy.deepcopy(self._refund(call, before, amount, reason, metadata))

    def _refund(
        self,
        call: Call,
        before: dict[str, Any],
        amount: int,
        reason: str | None,
        metadata: dict[str, str],
    ) -> dict[str, Any]:
        """Refund ``amount`` of a charge: refund.created, then charge.refunded."""
        refund = {
            "id": random_id("re_", 24),
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,
            "charge": before["id"],
            "created": self._now(),
            "currency": before["currency"],
            "customer": before["customer"],
            "customer_account": None,
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": metadata,
            "payment_intent": None,
            "payment_method": before["payment_method"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self._put(call, "refund", refund)
        self._emit(call, "refund.created", refund)
        after = copy.deepcopy(before)
        after["amount_refunded"] += amount
        after["refunded"] = after["amount_refunded"] == after["amount"]
        call.account.objects["charge"][before["id"]] = after
        self._emit(call, "charge.refunded", after, previous_attributes(before, after))
        return refund

    def get_refund(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "refund", object_id))

    def update_refund(self, call: Call, object_id: str) -> dict[str, Any]:
        return self._edit(call, "refund", object_id, (), "refund.updated")

    def list_refunds(self, call: Call) -> dict[str, Any]:
        filters = {"charge": field_is("charge"), "payment_intent": field_is("payment_intent")}
        return self._list(call, "refund", "/v1/refunds", filters)


def _outcome(decline: str | None) -> dict[str, Any]:
    if decline is None:
        return {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "network_status": "declined_by_network",
        "reason": decline,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }
