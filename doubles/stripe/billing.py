"""Billing in the Stripe double: its routes, and the Python helpers test code calls instead.

Some helpers stand for what has no API in Stripe (the Dashboard's customer discount and price
delete, a bank's dispute and its verdict, paying on a hosted checkout page).

Each helper goes through the same handler as the HTTP route (same checks, same events), as if
made by a request without an idempotency key; a refusal raises ``StripeError`` with Stripe's body.
Helpers first replay whatever fell due (``advance`` moves the double's clock forward).
"""

import copy
import threading
from typing import Any

from werkzeug.routing import Rule

from doubles.stripe.api import Account, Call, StripeApi
from doubles.stripe.wire import StripeError, random_id

# (path, method, handler) of every billing route, in the order werkzeug should try them
_TABLE = [
    ("/v1/products", "GET", "list_products"),
    ("/v1/products", "POST", "create_product"),
    ("/v1/products/<object_id>", "GET", "get_product"),
    ("/v1/products/<object_id>", "POST", "update_product"),
    ("/v1/products/<object_id>", "DELETE", "delete_product"),
    ("/v1/prices", "GET", "list_prices"),
    ("/v1/prices", "POST", "create_price"),
    ("/v1/prices/<object_id>", "GET", "get_price"),
    ("/v1/prices/<object_id>", "POST", "update_price"),
    ("/v1/coupons", "GET", "list_coupons"),
    ("/v1/coupons", "POST", "create_coupon"),
    ("/v1/coupons/<object_id>", "GET", "get_coupon"),
    ("/v1/coupons/<object_id>", "POST", "update_coupon"),
    ("/v1/coupons/<object_id>", "DELETE", "delete_coupon"),
    ("/v1/subscriptions", "GET", "list_subscriptions"),
    ("/v1/subscriptions", "POST", "create_subscription"),
    ("/v1/subscriptions/<object_id>", "GET", "get_subscription"),
    ("/v1/subscriptions/<object_id>", "POST", "update_subscription"),
    ("/v1/subscriptions/<object_id>", "DELETE", "cancel_subscription"),
    ("/v1/invoiceitems", "GET", "list_invoiceitems"),
    ("/v1/invoiceitems", "POST", "create_invoiceitem"),
    ("/v1/invoiceitems/<object_id>", "GET", "get_invoiceitem"),
    ("/v1/invoiceitems/<object_id>", "DELETE", "delete_invoiceitem"),
    ("/v1/invoices", "GET", "list_invoices"),
    ("/v1/invoices", "POST", "create_invoice"),
    ("/v1/invoices/<object_id>", "GET", "get_invoice"),
    ("/v1/invoices/<object_id>", "POST", "update_invoice"),
    ("/v1/invoices/<object_id>", "DELETE", "delete_invoice"),
    ("/v1/invoices/<object_id>/lines", "GET", "list_invoice_lines"),
    ("/v1/invoices/<object_id>/finalize", "POST", "finalize_invoice"),
    ("/v1/invoices/<object_id>/pay", "POST", "pay_invoice"),
    ("/v1/invoices/<object_id>/void", "POST", "void_invoice"),
    ("/v1/invoices/<object_id>/mark_uncollectible", "POST", "mark_uncollectible"),
    ("/v1/charges", "GET", "list_charges"),
    ("/v1/charges", "POST", "create_charge"),
    ("/v1/charges/<object_id>", "GET", "get_charge"),
    ("/v1/charges/<object_id>", "POST", "update_charge"),
    ("/v1/charges/<object_id>/capture", "POST", "capture_charge"),
    ("/v1/disputes", "GET", "list_disputes"),
    ("/v1/disputes/<object_id>", "GET", "get_dispute"),
    ("/v1/disputes/<object_id>/close", "POST", "close_dispute"),
    ("/v1/invoice_payments", "GET", "list_invoice_payments"),
    ("/v1/invoice_payments/<object_id>", "GET", "get_invoice_payment"),
    ("/v1/credit_notes", "GET", "list_credit_notes"),
    ("/v1/credit_notes", "POST", "create_credit_note"),
    ("/v1/credit_notes/<object_id>", "GET", "get_credit_note"),
    ("/v1/credit_notes/<object_id>", "POST", "update_credit_note"),
    ("/v1/credit_notes/<object_id>/lines", "GET", "list_credit_note_lines"),
    ("/v1/credit_notes/<object_id>/void", "POST", "void_credit_note"),
    ("/v1/refunds", "GET", "list_refunds"),
    ("/v1/refunds", "POST", "create_refund"),
    ("/v1/refunds/<object_id>", "GET", "get_refund"),
    ("/v1/refunds/<object_id>", "POST", "update_refund"),
    ("/v1/checkout/sessions", "GET", "list_checkout_sessions"),
    ("/v1/checkout/sessions", "POST", "create_checkout_session"),
    ("/v1/checkout/sessions/<object_id>", "GET", "get_checkout_session"),
    ("/v1/checkout/sessions/<object_id>/line_items", "GET", "list_checkout_line_items"),
    ("/v1/checkout/sessions/<object_id>/expire", "POST", "expire_checkout_session"),
]


def billing_rules() -> list[Rule]:
    """Fresh rules (a werkzeug rule belongs to one map) for every billing route."""
    return [Rule(path, methods=[method], endpoint=handler) for path, method, handler in _TABLE]


class BillingHelpers:
    """The helpers, mixed into ``StripeDouble``, which provides the attributes declared here."""

    _lock: threading.RLock
    _api: StripeApi
    _offset: float

    def _known(self, account: str | None) -> Account:
        raise NotImplementedError

    def _catch_up(self) -> None:
        raise NotImplementedError

    def _do(self, account: str | None, handler: str, params: dict[str, Any], *args: Any) -> Any:
        with self._lock:
            self._catch_up()
            call = Call(self._known(account), params, (random_id("req_", 14), None))
            return getattr(self._api, handler)(call, *args)

    # -- time and payments ---------------------------------------------------------------------

    def now(self) -> int:
        """The double's clock: the injected clock plus every ``advance``."""
        return self._api._now()

    def advance(self, seconds: float) -> int:
        """Move the clock forward and let Stripe do what fell due meanwhile; the new time."""
        with self._lock:
            self._offset += seconds
            self._catch_up()
            return self.now()

    def fail_next_payment(
        self,
        account: str | None,
        customer: str,
        decline_code: str = "generic_decline",
        times: int = 1,
    ) -> None:
        """The customer's next ``times`` payments are declined with ``decline_code``."""
        with self._lock:
            self._known(account).failing.setdefault(customer, []).extend([decline_code] * times)

    def set_after_retries(self, account: str | None, status: str) -> None:
        """What a subscription becomes once its invoice's last retry failed (Dashboard setting)."""
        if status not in ("canceled", "unpaid", "past_due"):
            raise ValueError(f"after_retries must be canceled, unpaid or past_due, not {status!r}")
        with self._lock:
            self._known(account).after_retries = status

    def objects(self, account: str | None, kind: str) -> list[dict[str, Any]]:
        """Every stored object of ``kind`` ("invoice", "charge"...), oldest first, as copies."""
        with self._lock:
            return copy.deepcopy(list(self._known(account).objects[kind].values()))

    # -- catalog -------------------------------------------------------------------------------

    def create_product(self, account: str | None, name: str, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "create_product", {"name": name, **fields}))

    def update_product(self, account: str | None, product: str, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "update_product", fields, product))

    def delete_product(self, account: str | None, product: str) -> dict[str, Any]:
        return dict(self._do(account, "delete_product", {}, product))

    def create_price(
        self,
        account: str | None,
        product: str,
        unit_amount: int | None = None,
        currency: str = "usd",
        interval: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A price; ``interval`` is shorthand for ``recurring={"interval": interval}``."""
        params: dict[str, Any] = {"product": product, "currency": currency, **fields}
        if unit_amount is not None:
            params["unit_amount"] = unit_amount
        if interval is not None:
            params["recurring"] = {"interval": interval, **params.get("recurring", {})}
        return dict(self._do(account, "create_price", params))

    def update_price(self, account: str | None, price: str, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "update_price", fields, price))

    def delete_price(self, account: str | None, price: str) -> dict[str, Any]:
        """The Dashboard's delete (the API has none): only for a price never billed."""
        return dict(self._do(account, "delete_price", {}, price))

    def create_coupon(self, account: str | None, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "create_coupon", fields))

    def delete_coupon(self, account: str | None, coupon: str) -> dict[str, Any]:
        return dict(self._do(account, "delete_coupon", {}, coupon))

    # -- subscriptions -------------------------------------------------------------------------

    def create_subscription(
        self,
        account: str | None,
        customer: str,
        items: list[dict[str, Any]],
        trial_end: int | None = None,
        coupon: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A subscription; ``coupon`` is shorthand for ``discounts=[{"coupon": coupon}]``."""
        params: dict[str, Any] = {"customer": customer, "items": items, **fields}
        if trial_end is not None:
            params["trial_end"] = trial_end
        if coupon is not None:
            params["discounts"] = [*params.get("discounts", []), {"coupon": coupon}]
        return dict(self._do(account, "create_subscription", params))

    def update_subscription(
        self, account: str | None, subscription: str, **fields: Any
    ) -> dict[str, Any]:
        return dict(self._do(account, "update_subscription", fields, subscription))

    def cancel_subscription(
        self, account: str | None, subscription: str, at_period_end: bool = False
    ) -> dict[str, Any]:
        """Cancel now (DELETE), or at the period's end (``cancel_at_period_end``)."""
        if at_period_end:
            params = {"cancel_at_period_end": True}
            return dict(self._do(account, "update_subscription", params, subscription))
        return dict(self._do(account, "cancel_subscription", {}, subscription))

    # -- invoices and payments -----------------------------------------------------------------

    def create_invoice_item(
        self, account: str | None, customer: str, **fields: Any
    ) -> dict[str, Any]:
        return dict(self._do(account, "create_invoiceitem", {"customer": customer, **fields}))

    def create_invoice(
        self,
        account: str | None,
        customer: str,
        items: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A draft invoice of ``items`` (each the fields of an invoice item) and pending ones.

        Unlike the API's default, pending invoice items are included, as the Stripe CLI does.
        """
        with self._lock:
            for item in items or []:
                self.create_invoice_item(account, customer, **item)
            params = {"customer": customer, "pending_invoice_items_behavior": "include", **fields}
            return dict(self._do(account, "create_invoice", params))

    def finalize_invoice(self, account: str | None, invoice: str) -> dict[str, Any]:
        return dict(self._do(account, "finalize_invoice", {}, invoice))

    def pay_invoice(self, account: str | None, invoice: str, **fields: Any) -> dict[str, Any]:
        """Pay now; a declined payment raises Stripe's card error (402), as the API answers."""
        return dict(self._do(account, "pay_invoice", fields, invoice))

    def void_invoice(self, account: str | None, invoice: str) -> dict[str, Any]:
        return dict(self._do(account, "void_invoice", {}, invoice))

    def mark_uncollectible(self, account: str | None, invoice: str) -> dict[str, Any]:
        return dict(self._do(account, "mark_uncollectible", {}, invoice))

    def create_charge(
        self,
        account: str | None,
        customer: str | None,
        amount: int,
        currency: str = "usd",
        fail: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """A charge; ``fail`` declines it, and the failed charge is returned rather than raised."""
        params: dict[str, Any] = {"amount": amount, "currency": currency, **fields}
        if customer is not None:
            params["customer"] = customer
        if fail:
            params["source"] = "tok_chargeDeclined"
        with self._lock:
            try:
                return dict(self._do(account, "create_charge", params))
            except StripeError as declined:
                charge_id = declined.error.get("charge")
                if not charge_id:
                    raise
                return dict(self._do(account, "get_charge", {}, charge_id))

    def refund_charge(
        self, account: str | None, charge: str, amount: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"charge": charge, **fields}
        if amount is not None:
            params["amount"] = amount
        return dict(self._do(account, "create_refund", params))

    def capture_charge(self, account: str | None, charge: str, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "capture_charge", fields, charge))

    def dispute_charge(
        self, account: str | None, charge: str, reason: str = "fraudulent"
    ) -> dict[str, Any]:
        """The cardholder's bank disputes the charge (no API call does this in Stripe)."""
        return dict(self._do(account, "open_dispute", {}, charge, reason))

    def settle_dispute(self, account: str | None, dispute: str, outcome: str) -> dict[str, Any]:
        """The bank's verdict on a dispute: ``won`` or ``lost``."""
        return dict(self._do(account, "settle", {}, dispute, outcome))

    def create_credit_note(
        self, account: str | None, invoice: str, **fields: Any
    ) -> dict[str, Any]:
        return dict(self._do(account, "create_credit_note", {"invoice": invoice, **fields}))

    def void_credit_note(self, account: str | None, credit_note: str) -> dict[str, Any]:
        return dict(self._do(account, "void_credit_note", {}, credit_note))

    # -- discounts of customers ----------------------------------------------------------------

    def add_customer_discount(
        self, account: str | None, customer: str, coupon: str
    ) -> dict[str, Any]:
        """The Dashboard applies ``coupon`` to the customer (the API no longer can)."""
        return dict(self._do(account, "add_customer_discount", {}, customer, coupon))

    def delete_customer_discount(self, account: str | None, customer: str) -> dict[str, Any]:
        return dict(self._do(account, "delete_customer_discount", {}, customer))

    # -- checkout ------------------------------------------------------------------------------

    def create_checkout_session(self, account: str | None, **fields: Any) -> dict[str, Any]:
        return dict(self._do(account, "create_checkout_session", fields))

    def complete_checkout_session(
        self, account: str | None, session: str, email: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """What paying on the hosted page does; see ``doubles.stripe.checkout``."""
        return dict(self._do(account, "complete_checkout_session", {}, session, email, name))

    def expire_checkout_session(self, account: str | None, session: str) -> dict[str, Any]:
        return dict(self._do(account, "expire_checkout_session", {}, session))
