"""Checkout sessions of the Stripe double: created open, completed by test code, or expired.

Paying on Stripe's hosted page has no public API, so ``complete`` stands in for the customer: it
makes what Stripe makes (the customer, then the subscription and its paid invoice, or the charge
of a payment, and an invoice when ``invoice_creation`` asks for one) and then records
checkout.session.completed after those objects' own events. A session shows its ``line_items``
only when expanded, as Stripe does.
"""

import copy
from typing import Any

from doubles.stripe.clock import ClockApi
from doubles.stripe.core import Call, field_is, list_object, one_of, text
from doubles.stripe.line_objects import price_amount
from doubles.stripe.payments import card_error
from doubles.stripe.wire import (
    as_bool,
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
    page,
    random_id,
)

_SESSION_PARAMS = (
    *("mode", "success_url", "cancel_url", "customer", "customer_email", "customer_creation"),
    *("line_items", "client_reference_id", "metadata", "subscription_data", "discounts"),
    *("allow_promotion_codes", "payment_method_types", "invoice_creation", "expires_at"),
    *("locale", "payment_intent_data", "billing_address_collection", "expand", "currency"),
)
_EXPIRES_AFTER = 86_400  # a session stays open for 24 hours unless told otherwise


class CheckoutApi(ClockApi):
    """Checkout sessions; customers come from the layer above (``create_customer``)."""

    def create_customer(self, call: Call) -> dict[str, Any]:
        raise NotImplementedError  # the customers' layer (StripeApi) provides it

    def create_checkout_session(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _SESSION_PARAMS)
        if not params.get("mode"):
            raise missing_parameter("mode")
        mode = one_of(params["mode"], ("payment", "setup", "subscription"), "mode")
        if not params.get("success_url"):
            raise missing_parameter("success_url")
        if params.get("customer") and params.get("customer_email"):
            message = "You may only specify one of these parameters: customer, customer_email."
            raise invalid(message, "customer_email")
        customer = None
        if params.get("customer"):
            customer = self._get(call.account, "customer", str(params["customer"]), "customer")[
                "id"
            ]
        items = self._session_items(call, mode, params.get("line_items"))
        now = self._now()
        session_id = (
            random_id("cs_test_", 58) if not call.account.livemode else random_id("cs_live_", 58)
        )
        subtotal = sum(i["amount_subtotal"] for i in items)
        invoice_creation = params.get("invoice_creation") or {}
        session = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": subtotal if items else None,
            "amount_total": subtotal if items else None,
            "automatic_tax": dict.fromkeys(("liability", "provider", "status"), None)
            | {"enabled": False},
            "billing_address_collection": None,
            "cancel_url": text(params.get("cancel_url")),
            "client_reference_id": text(params.get("client_reference_id")),
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": items[0]["currency"] if items else None,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": dict.fromkeys(
                ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")
            ),
            "customer": customer,
            "customer_account": None,
            "customer_creation": (
                params.get("customer_creation", "if_required")
                if mode == "payment" and not customer
                else None
            ),
            "customer_details": None,
            "customer_email": text(params.get("customer_email")),
            "discounts": [],
            "expires_at": as_int(params.get("expires_at", now + _EXPIRES_AFTER), "expires_at"),
            "integration_identifier": None,
            "invoice": None,
            "invoice_creation": (
                {
                    "enabled": as_bool(
                        invoice_creation.get("enabled", False), "invoice_creation[enabled]"
                    ),
                    "invoice_data": {
                        "account_tax_ids": None,
                        "custom_fields": None,
                        "description": None,
                        "footer": None,
                        "issuer": None,
                        "metadata": {},
                        "rendering_options": None,
                    },
                }
                if mode == "payment"
                else None
            ),
            "livemode": call.account.livemode,
            "locale": text(params.get("locale")),
            "managed_payments": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "mode": mode,
            "origin_context": None,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always" if mode == "subscription" else None,
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
            "permissions": None,
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": str(params["success_url"]),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "wallet_options": None,
        }
        private = call.account.private[session_id]
        private["line_items"] = list_object(items, f"/v1/checkout/sessions/{session_id}/line_items")
        private["subscription_data"] = params.get("subscription_data") or {}
        private["discounts"] = params.get("discounts") or []
        session["discounts"] = [
            {"coupon": entry.get("coupon") or None, "promotion_code": None}
            for entry in as_list(private["discounts"], "discounts")
            if isinstance(entry, dict)
        ]
        self._put(call, "checkout.session", session)
        return copy.deepcopy(session)

    def _session_items(self, call: Call, mode: str, value: Any) -> list[dict[str, Any]]:
        entries = as_list(value, "line_items") if value not in (None, "") else []
        if mode == "setup":
            return []
        if not entries:
            raise missing_parameter("line_items")
        items = []
        for index, entry in enumerate(entries):
            prefix = f"line_items[{index}]"
            if not isinstance(entry, dict) or not entry.get("price"):
                raise missing_parameter(f"{prefix}[price]")
            check_keys(entry, ("price", "quantity", "adjustable_quantity", "tax_rates"), prefix)
            price = self._get(call.account, "price", str(entry["price"]), f"{prefix}[price]")
            if not price["active"]:
                message = "The price specified is inactive. This field only accepts active prices."
                raise invalid(message, f"{prefix}[price]")
            if mode == "payment" and price["type"] == "recurring":
                raise invalid(
                    "You specified `payment` mode but passed a recurring price. Either switch to "
                    "`subscription` mode or use only one-time prices.",
                    f"{prefix}[price]",
                )
            if entry.get("quantity") in (None, ""):
                raise missing_parameter(f"{prefix}[quantity]")
            quantity = as_int(entry["quantity"], f"{prefix}[quantity]")
            tiers = call.account.private[price["id"]].get("tiers")
            amount = price_amount(price, tiers, quantity)
            product = call.account.objects["product"].get(price["product"]) or {}
            items.append(
                {
                    "id": random_id("li_", 24),
                    "object": "item",
                    "adjustable_quantity": None,
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": price["currency"],
                    "description": product.get("name", ""),
                    "metadata": {},
                    "price": copy.deepcopy(price),
                    "quantity": quantity,
                }
            )
        if mode == "subscription" and not any(i["price"]["type"] == "recurring" for i in items):
            raise invalid(
                "You must provide at least one recurring price in `subscription` mode when using "
                "prices.",
                "line_items",
            )
        if len({i["currency"] for i in items}) > 1:
            raise invalid("All line items must have the same currency.", "line_items")
        return items

    def get_checkout_session(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "checkout.session", object_id))

    def list_checkout_sessions(self, call: Call) -> dict[str, Any]:
        filters = {
            "customer": field_is("customer"),
            "status": field_is("status"),
            "subscription": field_is("subscription"),
            "payment_intent": field_is("payment_intent"),
        }
        return self._list(call, "checkout.session", "/v1/checkout/sessions", filters)

    def list_checkout_line_items(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("limit", "starting_after", "ending_before", "expand"))
        self._get(call.account, "checkout.session", object_id)
        items = call.account.private[object_id]["line_items"]
        return page(copy.deepcopy(items["data"]), call.params, items["url"], "item")

    def expire_checkout_session(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, ("expand",))
        session = self._get(call.account, "checkout.session", object_id)
        if session["status"] != "open":
            message = 'Only Checkout Sessions with a status in ["open"] can be expired.'
            raise invalid(message)
        session["status"] = "expired"
        self._emit(call, "checkout.session.expired", session)
        return copy.deepcopy(session)

    def complete_checkout_session(
        self, call: Call, object_id: str, email: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """What the customer paying on the hosted page makes happen."""
        session = self._get(call.account, "checkout.session", object_id)
        if session["status"] != "open":
            raise invalid(f"This Checkout Session is no longer open ({session['status']}).")
        email = session["customer_email"] or email or "customer@example.com"
        customer_id = session["customer"]
        invoicing = bool((session["invoice_creation"] or {}).get("enabled"))
        wanted = session["mode"] == "subscription" or invoicing
        if customer_id is None and (wanted or session["customer_creation"] == "always"):
            fields: dict[str, Any] = {"email": email, **({"name": name} if name else {})}
            customer_id = self.create_customer(Call(call.account, fields, call.request))["id"]
        private = call.account.private[object_id]
        items = private["line_items"]["data"]
        updates: dict[str, Any] = {"customer": customer_id, "status": "complete"}
        paid = "paid"
        if session["mode"] == "subscription":
            sub = self._checkout_subscription(call, customer_id or "", items, private)
            updates.update({"subscription": sub["id"], "invoice": sub["latest_invoice"]})
            invoice = call.account.objects["invoice"][sub["latest_invoice"]]
            paid = "paid" if invoice["amount_paid"] else "no_payment_required"
        elif session["mode"] == "payment":
            decline = self._decline(call, customer_id)
            if decline is not None:  # the hosted page refuses the card: the session stays open
                raise card_error(decline, None)
            if invoicing:
                updates["invoice"] = self._checkout_invoice(call, customer_id or "", items)
            else:
                self._charge(call, customer_id, session["amount_total"] or 0, session["currency"])
        else:
            paid = "no_payment_required"
        session.update(updates)
        session["payment_status"] = paid
        session["customer_details"] = {
            "address": dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state")),
            "business_name": None,
            "email": email,
            "individual_name": None,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        self._emit(call, "checkout.session.completed", session)
        return copy.deepcopy(session)

    def _checkout_subscription(
        self, call: Call, customer_id: str, items: list[dict[str, Any]], private: dict[str, Any]
    ) -> dict[str, Any]:
        data = private["subscription_data"]
        params: dict[str, Any] = {
            "customer": customer_id,
            "items": [
                {"price": i["price"]["id"], "quantity": i["quantity"]}
                for i in items
                if i["price"]["type"] == "recurring"
            ],
            # The hosted page keeps the customer there until the card goes through.
            "payment_behavior": "error_if_incomplete",
            "discounts": private["discounts"],
        }
        for key in ("trial_period_days", "trial_end", "metadata", "description"):
            if data.get(key) not in (None, ""):
                params[key] = data[key]
        return self.create_subscription(Call(call.account, params, call.request))

    def _checkout_invoice(self, call: Call, customer_id: str, items: list[dict[str, Any]]) -> str:
        for item in items:
            params = {
                "customer": customer_id,
                "price": item["price"]["id"],
                "quantity": item["quantity"],
            }
            self.create_invoiceitem(Call(call.account, params, call.request))
        params = {"customer": customer_id, "pending_invoice_items_behavior": "include"}
        invoice = self.create_invoice(Call(call.account, params, call.request))
        stored = call.account.objects["invoice"][invoice["id"]]
        self._finalize(call, stored)
        if stored["status"] == "open":
            self._attempt(call, stored)
        return str(stored["id"])
