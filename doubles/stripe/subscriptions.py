"""Subscriptions of the Stripe double: create, update, cancel and list, with their invoices.

Creating a subscription bills its first period at once (a $0 invoice while trialing) and records
the events in the order Stripe sends them: the invoice's, the charge's, then
customer.subscription.created. Changes of quantity or price take effect without prorations.
"""

import copy
from typing import Any

from doubles.stripe.core import Call, add_interval, text
from doubles.stripe.invoice_objects import invoice_subscription
from doubles.stripe.line_objects import invoice_line, price_amount
from doubles.stripe.payments import card_error, money
from doubles.stripe.subscription_discounts import SubscriptionDiscountsApi
from doubles.stripe.subscription_objects import (
    new_item,
    new_subscription,
    pause_of,
    period_of,
    plan_of,
    set_period,
    trial_end_of,
)
from doubles.stripe.wire import (
    as_bool,
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
    random_id,
)

# No ``coupon`` or ``promotion_code`` since 2025-03-31.basil: ``discounts`` replaces them.
_COMMON = (
    *("items", "metadata", "description", "discounts", "trial_end", "expand"),
    *("cancel_at_period_end", "cancel_at", "collection_method", "days_until_due"),
    *("payment_behavior", "proration_behavior", "default_payment_method", "off_session"),
    *("trial_from_plan", "trial_settings", "promotion_code"),
)
_CREATE = (*_COMMON, "customer", "trial_period_days", "currency", "billing_cycle_anchor")
_UPDATE = (*_COMMON, "pause_collection", "cancellation_details")
_ITEM_KEYS = (
    *("id", "price", "plan", "quantity", "metadata", "deleted", "tax_rates", "clear_usage"),
    "discounts",
)
_ENDED = ("canceled", "incomplete_expired")
_MISMATCH = (
    "Currency and interval fields must match across all plans on this subscription. "
    "Found mismatch in {} field."
)


class SubscriptionsApi(SubscriptionDiscountsApi):
    """Subscriptions, their items and discounts, and how their invoices move their status."""

    # -- items ---------------------------------------------------------------------------------

    def _item(
        self, call: Call, index: int, entry: Any, item: dict[str, Any] | None, sub_id: str
    ) -> dict[str, Any]:
        """A new subscription item from ``items[index]``, or ``item`` changed by it."""
        prefix = f"items[{index}]"
        if not isinstance(entry, dict):
            raise invalid(f"Invalid {prefix}: must be a hash", prefix)
        check_keys(entry, _ITEM_KEYS, prefix)
        price_id = entry.get("price") or entry.get("plan")
        if item is None and not price_id:
            raise missing_parameter(f"{prefix}[price]")
        new = copy.deepcopy(item) if item else None
        if price_id and (new is None or new["price"]["id"] != price_id):
            price = self._get(call.account, "price", str(price_id), f"{prefix}[price]")
            if not price["active"]:
                message = "The price specified is inactive. This field only accepts active prices."
                raise invalid(message, f"{prefix}[price]")
            if price["type"] != "recurring":
                raise invalid(
                    "The price specified is set to `type=one_time` but this field only accepts "
                    "prices with `type=recurring`.",
                    f"{prefix}[price]",
                )
            new = new or new_item(sub_id, self._now())
            new["price"], new["plan"] = copy.deepcopy(price), plan_of(price)
        assert new is not None
        metered = new["price"]["recurring"]["usage_type"] == "metered"
        if entry.get("quantity") not in (None, ""):
            if metered:
                raise invalid(
                    "Quantity should not be specified where usage_type is `metered`. Remove "
                    f"quantity from `{prefix}`.",
                    f"{prefix}[quantity]",
                )
            new["quantity"] = as_int(entry["quantity"], f"{prefix}[quantity]")
            if new["quantity"] < 0:
                message = "Invalid integer: quantity must be greater than or equal to 0"
                raise invalid(message, f"{prefix}[quantity]")
        if metered:
            new.pop("quantity", None)  # a metered item has no quantity at all
        if "metadata" in entry:
            new["metadata"] = merge_metadata(new["metadata"], entry["metadata"])
        if entry.get("discounts") not in (None, ""):  # made once the subscription is known
            call.account.private[new["id"]]["discounts"] = (
                entry["discounts"],
                f"{prefix}[discounts]",
            )
        return new

    def _items(
        self, call: Call, entries: Any, current: list[dict[str, Any]], sub_id: str
    ) -> list[dict[str, Any]]:
        items = [copy.deepcopy(i) for i in current]
        for index, entry in enumerate(as_list(entries, "items")):
            found = None
            if isinstance(entry, dict) and entry.get("id"):
                by_id = {i["id"]: i for i in items}
                if entry["id"] not in by_id:
                    raise invalid(
                        f"No such subscription item: '{entry['id']}'",
                        f"items[{index}][id]",
                        "resource_missing",
                    )
                found = by_id[entry["id"]]
                if as_bool(entry.get("deleted", False), f"items[{index}][deleted]"):
                    items.remove(found)
                    continue
            changed = self._item(call, index, entry, found, sub_id)
            items = [changed if i is found else i for i in items] if found else [*items, changed]
        if not items:
            raise missing_parameter("items")
        prices = [i["price"] for i in items]
        if len({p["currency"] for p in prices}) > 1:
            raise invalid(_MISMATCH.format("currency"), "items")
        if (
            len({(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in prices})
            > 1
        ):
            raise invalid(_MISMATCH.format("interval"), "items")
        return items

    def _line_of(
        self, call: Call, item: dict[str, Any], period: dict[str, int], trial: bool
    ) -> dict[str, Any]:
        price = item["price"]
        quantity = item.get("quantity", 0)  # metered usage is billed later: nothing yet
        tiers = call.account.private[price["id"]].get("tiers")
        product = call.account.objects["product"].get(price["product"]) or {"name": price["id"]}
        recurring = price["recurring"]
        every = (
            f"/ {recurring['interval']}"
            if recurring["interval_count"] == 1
            else f"every {recurring['interval_count']} {recurring['interval']}s"
        )
        if price["unit_amount"] is not None:
            at = f" (at {money(price['unit_amount'], price['currency'])} {every})"
        else:
            at = ""
        description = f"{quantity} × {product['name']}{at}"  # noqa: RUF001 (Stripe's sign)
        amount = price_amount(price, tiers, quantity)
        if trial:  # Stripe invoices a trial at zero and says so
            amount, description = 0, f"Trial period for {product['name']}"
        return invoice_line(item, price, amount, quantity, period, description)

    # -- create --------------------------------------------------------------------------------

    def create_subscription(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _CREATE)
        if not params.get("customer"):
            raise missing_parameter("customer")
        customer = self._get(call.account, "customer", str(params["customer"]), "customer")
        if not params.get("items"):
            raise missing_parameter("items")
        sub_id = random_id("sub_", 24)
        items = self._items(call, params["items"], [], sub_id)
        currency = items[0]["price"]["currency"]
        self._settle_currency(call, customer, currency, "items")
        behavior = params.get("payment_behavior", "allow_incomplete")
        now = self._now()
        trial_end = trial_end_of(params, now)
        recurring = items[0]["price"]["recurring"]
        end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
        collection = params.get("collection_method", "charge_automatically")
        sub = new_subscription(sub_id, now, customer["id"], items, call.account.livemode)
        sub.update({"currency": currency, "collection_method": collection})
        sub["description"] = text(params.get("description"))
        sub["metadata"] = merge_metadata({}, params.get("metadata", {}))
        if trial_end:
            sub.update({"status": "trialing", "billing_cycle_anchor": end})
            sub.update({"trial_start": now, "trial_end": trial_end})
        self._apply_collection(sub, params)
        set_period(sub, now, end)
        if behavior == "error_if_incomplete" and not trial_end and collection != "send_invoice":
            # Stripe refuses the whole call, leaving no subscription behind.
            decline = self._decline(call, customer["id"], params.get("default_payment_method"))
            if decline is not None:
                raise card_error(decline, None)
        discounts = self._new_discounts(call, sub, params)
        call.account.private[sub_id]["quiet"] = True
        self._put(call, "subscription", sub)
        method = params.get("default_payment_method")
        attempt = behavior != "default_incomplete"
        self._bill(call, sub, "subscription_create", (now, now), (now, end), method, attempt)
        if collection == "send_invoice" and sub["status"] == "incomplete":
            sub["status"] = "active"  # nothing to collect now: the customer pays when due
        del call.account.private[sub_id]["quiet"]
        self._emit(call, "customer.subscription.created", sub)
        for discount in discounts:
            self._emit(call, "customer.discount.created", discount)
        return copy.deepcopy(sub)

    def _apply_collection(self, sub: dict[str, Any], params: dict[str, Any]) -> None:
        if "collection_method" in params:
            method = params["collection_method"]
            if method not in ("charge_automatically", "send_invoice"):
                message = "Invalid collection_method: must be one of {}".format(
                    "charge_automatically or send_invoice"
                )
                raise invalid(message, "collection_method")
            sub["collection_method"] = method
        if params.get("days_until_due") not in (None, ""):
            sub["days_until_due"] = as_int(params["days_until_due"], "days_until_due")
        if sub["collection_method"] == "send_invoice" and sub["days_until_due"] is None:
            raise missing_parameter("days_until_due")

    def _bill(
        self,
        call: Call,
        sub: dict[str, Any],
        reason: str,
        period: tuple[int, int],
        lines_period: tuple[int, int],
        method: Any = None,
        attempt: bool = True,
    ) -> dict[str, Any]:
        """Invoice the items for ``lines_period``, finalize, and charge it unless told not to."""
        span = {"end": lines_period[1], "start": lines_period[0]}
        trial = sub["status"] == "trialing"
        lines = [self._line_of(call, item, span, trial) for item in sub["items"]["data"]]
        own = [d for item in sub["items"]["data"] for d in item["discounts"]]
        customer = call.account.customers[sub["customer"]]
        ids = [*own, *sub["discounts"]]
        if not ids and customer["discount"]:  # the customer's discount, as Stripe applies it
            ids = [customer["discount"]["id"]]
        discounts = self._applied(call, ids)
        invoice = self._new_invoice(
            call,
            customer,
            lines,
            reason=reason,
            currency=sub["currency"],
            subscription=sub,
            discounts=discounts,
            period=period,
        )
        for discount, _ in discounts:
            call.account.private[discount["id"]]["used"] = True
        invoice["collection_method"] = sub["collection_method"]
        if sub["collection_method"] == "send_invoice":
            invoice["due_date"] = self._now() + (sub["days_until_due"] or 0) * 86_400
        sub["latest_invoice"] = invoice["id"]
        pause = sub["pause_collection"]
        paused = pause is not None and (pause["resumes_at"] or self._now() + 1) > self._now()
        # Stripe leaves an unpaid subscription's invoices as drafts, and a paused one's as asked.
        if sub["status"] == "unpaid" or (paused and pause["behavior"] == "keep_as_draft"):
            return invoice
        self._finalize(call, invoice)
        if paused and invoice["status"] == "open":
            invoice["next_payment_attempt"] = None
            if pause["behavior"] == "void":
                self._void(call, invoice)
            else:
                self._uncollectible(call, invoice)
            return invoice
        automatic = sub["collection_method"] == "charge_automatically"
        if invoice["status"] == "open" and automatic:
            if attempt:
                self._attempt(call, invoice, method)
            else:
                invoice["next_payment_attempt"] = None  # waits for the customer to pay
        return invoice

    # -- what invoices do to their subscription ------------------------------------------------

    def _invoice_paid(self, call: Call, invoice: dict[str, Any]) -> None:
        sub = call.account.objects["subscription"].get(invoice_subscription(invoice) or "")
        if sub is None or sub["latest_invoice"] != invoice["id"]:
            return
        if sub["status"] in ("incomplete", "past_due", "unpaid"):
            self._set_status(call, sub, "active")

    def _invoice_failed(self, call: Call, invoice: dict[str, Any], final: bool) -> None:
        sub = call.account.objects["subscription"].get(invoice_subscription(invoice) or "")
        if sub is None or sub["latest_invoice"] != invoice["id"]:
            return
        if invoice["billing_reason"] == "subscription_create":
            invoice["next_payment_attempt"] = None  # a first payment is not retried: incomplete
            return
        if sub["status"] in ("active", "trialing"):
            self._set_status(call, sub, "past_due")
        if final and sub["status"] == "past_due":
            after = call.account.after_retries
            if after == "canceled":
                self._end(call, sub, "payment_failed")
            elif after == "unpaid":
                self._set_status(call, sub, "unpaid")

    def _set_status(self, call: Call, sub: dict[str, Any], status: str) -> None:
        if call.account.private[sub["id"]].get("quiet"):
            sub["status"] = status  # shown by the event of the change under way
            return
        before = copy.deepcopy(sub)
        sub["status"] = status
        self._changed(call, "customer.subscription.updated", before, sub)

    def _end(self, call: Call, sub: dict[str, Any], reason: str, at: int | None = None) -> None:
        now = self._now() if at is None else at
        sub.update({"status": "canceled", "ended_at": now})
        sub["canceled_at"] = sub["canceled_at"] or now
        sub["cancellation_details"]["reason"] = reason
        self._emit(call, "customer.subscription.deleted", sub)

    # -- read, update, cancel ------------------------------------------------------------------

    def get_subscription(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "subscription", object_id))

    def list_subscriptions(self, call: Call) -> dict[str, Any]:
        status = call.params.get("status")
        wanted = {"ended": _ENDED, "all": None}.get(str(status), (status,)) if status else None
        filters = {
            "customer": lambda s, v: s["customer"] == v,
            "price": lambda s, v: any(i["price"]["id"] == v for i in s["items"]["data"]),
            "collection_method": lambda s, v: s["collection_method"] == v,
            "status": lambda s, v: wanted is None or s["status"] in wanted,
        }

        def keep(sub: dict[str, Any]) -> bool:
            # Like Stripe, canceled subscriptions are listed only when asked for.
            return bool(status) or sub["status"] != "canceled"

        return self._list(call, "subscription", "/v1/subscriptions", filters, keep)

    def update_subscription(self, call: Call, object_id: str) -> dict[str, Any]:
        params = call.params
        check_keys(params, _UPDATE)
        before = self._get(call.account, "subscription", object_id)
        if before["status"] in _ENDED:
            message = f"You cannot update a subscription that is `{before['status']}`."
            raise invalid(message)
        sub = copy.deepcopy(before)
        now = self._now()
        start, end = period_of(sub)
        if params.get("items"):
            items = self._items(call, params["items"], sub["items"]["data"], object_id)
            sub["items"]["data"], sub["items"]["total_count"] = items, len(items)
            set_period(sub, start, end)
            sub["currency"] = items[0]["price"]["currency"]
        if "cancel_at_period_end" in params:
            ending = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
            sub["cancel_at_period_end"] = ending
            sub["cancel_at"] = end if ending else None
            sub["canceled_at"] = now if ending else None
        if "cancel_at" in params:
            at = params["cancel_at"]
            sub["cancel_at"] = as_int(at, "cancel_at") if at not in ("", None) else None
            sub["canceled_at"] = now if sub["cancel_at"] else None
            sub["cancel_at_period_end"] = False
        for key in ("metadata", "description"):
            if key in params:
                value = params[key]
                sub[key] = merge_metadata(sub[key], value) if key == "metadata" else text(value)
        if "pause_collection" in params:
            sub["pause_collection"] = pause_of(params["pause_collection"])
        if "cancellation_details" in params and isinstance(params["cancellation_details"], dict):
            for key in ("comment", "feedback"):
                if key in params["cancellation_details"]:
                    value = text(params["cancellation_details"][key])
                    sub["cancellation_details"][key] = value
        self._apply_collection(sub, params)
        removed: list[str] = []
        if params.get("discounts") == "":
            removed, sub["discounts"] = sub["discounts"], []
        discounts = self._new_discounts(call, sub, params)
        call.account.objects["subscription"][object_id] = sub
        if params.get("trial_end") == "now" and sub["status"] == "trialing":
            sub["trial_end"] = now
            self._renew(call, sub, before, "subscription_update")
        else:
            if params.get("trial_end") not in (None, ""):
                sub["trial_end"] = trial_end_of(params, now)
                set_period(sub, start, sub["trial_end"])
            self._changed(call, "customer.subscription.updated", before, sub)
        for discount in discounts:
            self._emit(call, "customer.discount.created", discount)
        for discount_id in removed:
            self._emit(call, "customer.discount.deleted", self._ended_discount(call, discount_id))
        return copy.deepcopy(sub)

    def _renew(
        self,
        call: Call,
        sub: dict[str, Any],
        before: dict[str, Any] | None,
        reason: str = "subscription_cycle",
    ) -> None:
        """Start the next period; the time layer implements it."""
        raise NotImplementedError

    def cancel_subscription(self, call: Call, object_id: str) -> dict[str, Any]:
        params = call.params
        check_keys(params, ("invoice_now", "prorate", "cancellation_details", "expand"))
        sub = self._get(call.account, "subscription", object_id)
        if sub["status"] in _ENDED:
            raise invalid(f"This subscription is already `{sub['status']}`.")
        details = params.get("cancellation_details")
        if isinstance(details, dict):
            for key in ("comment", "feedback"):
                if key in details:
                    sub["cancellation_details"][key] = text(details[key])
        sub["cancel_at_period_end"] = False
        self._end(call, sub, "cancellation_requested")
        return copy.deepcopy(sub)
