"""What the Stripe double does with each API call: customers, events and webhook endpoints.

Every mutation of a customer records the event Stripe would send, with the same shape. Billing
(products to checkout) comes from the layers this class stands on, each in its own module.
"""

import copy
from typing import Any

from doubles.stripe.checkout import CheckoutApi
from doubles.stripe.core import LIST_PARAMS, Account, Call
from doubles.stripe.objects import (
    apply_customer,
    deleted_stub,
    new_customer,
    new_webhook_endpoint,
    update_webhook_endpoint,
)
from doubles.stripe.wire import (
    as_bool,
    as_list,
    check_keys,
    copied,
    created_matches,
    invalid,
    no_such,
    page,
    page_of,
    previous_attributes,
)

__all__ = ["Account", "Call", "StripeApi"]
_ENDED = ("canceled", "incomplete_expired")
MAX_EVENT_TYPES = 20
EVENT_RETENTION_SECONDS = 30 * 24 * 3600  # "Stripe only returns events created in the last 30 days"


class StripeApi(CheckoutApi):
    """The resources, one method per route; each takes the call and the path's object id.

    Customers, events and webhook endpoints are here; billing comes from the layers below.
    """

    # -- customers -------------------------------------------------------------------------

    def create_customer(self, call: Call) -> dict[str, Any]:
        customer = new_customer(self._now(), call.account.livemode)
        apply_customer(customer, call.params, creating=True)
        call.account.customers[customer["id"]] = customer
        self._emit(call, "customer.created", customer)
        return copy.deepcopy(customer)

    def update_customer(self, call: Call, customer_id: str) -> dict[str, Any]:
        before = self._live_customer(call.account, customer_id)
        after = copy.deepcopy(before)
        apply_customer(after, call.params, creating=False)
        call.account.customers[customer_id] = after
        changed = previous_attributes(before, after)
        # Stripe records no event for an update that changes nothing.
        if changed:
            self._emit(call, "customer.updated", after, changed)
        return copy.deepcopy(after)

    def delete_customer(self, call: Call, customer_id: str) -> dict[str, Any]:
        customer = self._live_customer(call.account, customer_id)
        # Like Stripe, deleting a customer ends its subscriptions at once.
        for sub in list(call.account.objects["subscription"].values()):
            if sub["customer"] == customer_id and sub["status"] not in _ENDED:
                self._end(call, sub, "cancellation_requested")
        del call.account.customers[customer_id]
        stub = call.account.deleted[customer_id] = deleted_stub(customer_id, "customer")
        self._emit(call, "customer.deleted", customer)
        return dict(stub)

    @staticmethod
    def _live_customer(account: Account, customer_id: str) -> dict[str, Any]:
        if customer_id not in account.customers:
            raise no_such("customer", customer_id)
        return account.customers[customer_id]

    def add_customer_discount(self, call: Call, customer_id: str, coupon: str) -> dict[str, Any]:
        """A discount on the customer itself, as the Dashboard makes one (the API's ``coupon``
        parameter of customers is gone since 2025-03-31.basil): it applies to the customer's
        subscriptions that have none of their own. customer.discount.created, then
        customer.updated, as Stripe records a coupon applied to a customer."""
        before = self._live_customer(call.account, customer_id)
        if before["discount"] is not None:
            self.delete_customer_discount(call, customer_id)
            before = self._live_customer(call.account, customer_id)
        discount = self._discount(call, customer_id, None, coupon, "coupon")
        after = {**copy.deepcopy(before), "discount": copy.deepcopy(discount)}
        call.account.customers[customer_id] = after
        self._emit(call, "customer.discount.created", discount)
        self._emit(call, "customer.updated", after, previous_attributes(before, after))
        return copy.deepcopy(discount)

    def delete_customer_discount(self, call: Call, object_id: str) -> dict[str, Any]:
        """``DELETE /v1/customers/{customer}/discount``: the deleted discount."""
        check_keys(call.params, ())
        before = self._live_customer(call.account, object_id)
        if before["discount"] is None:
            raise no_such("discount", object_id)
        ended = self._ended_discount(call, before["discount"]["id"])
        after = {**copy.deepcopy(before), "discount": None}
        call.account.customers[object_id] = after
        self._emit(call, "customer.discount.deleted", ended)
        self._emit(call, "customer.updated", after, previous_attributes(before, after))
        return ended

    def get_customer(self, call: Call, object_id: str) -> dict[str, Any]:
        if object_id in call.account.deleted:
            return dict(call.account.deleted[object_id])
        return copy.deepcopy(self._live_customer(call.account, object_id))

    def list_customers(self, call: Call) -> dict[str, Any]:
        check_keys(call.params, (*LIST_PARAMS, "email", "test_clock"))
        email = call.params.get("email")
        created = call.params.get("created")

        def keeps(c: dict[str, Any]) -> bool:
            return (not email or c["email"] == email) and created_matches(c["created"], created)

        listed = page_of(call.account.customers, keeps, call.params, "/v1/customers", "customer")
        # Copy only the page asked for: a whole account's customers on every page is quadratic.
        listed["data"] = copied(listed["data"])
        return listed

    # -- events ----------------------------------------------------------------------------

    def list_events(self, call: Call) -> dict[str, Any]:
        """List Events as Stripe answers it (stripe-python's ``EventListParams``; the guide
        docs.stripe.com/webhooks/process-undelivered-events): only the last 30 days, ``type``
        (one name, ``*`` as a wildcard) or ``types`` (up to 20 exact names) but not both, and
        ``delivery_success`` (false: events some endpoint has not yet acknowledged with a 2xx).
        """
        params = call.params
        check_keys(params, (*LIST_PARAMS, "type", "types", "delivery_success"))
        types = [str(t) for t in as_list(params.get("types", []), "types")]
        if len(types) > MAX_EVENT_TYPES:
            raise invalid(
                f"Invalid array: types must have at most {MAX_EVENT_TYPES} elements", "types"
            )
        pattern = str(params.get("type") or "")
        if pattern and types:
            raise invalid("You may pass either `type` or `types`, but not both.", "types")
        delivered = params.get("delivery_success")
        wanted = None if delivered in (None, "") else as_bool(delivered, "delivery_success")
        oldest = self._now() - EVENT_RETENTION_SECONDS
        found = [
            e
            for e in reversed(call.account.events)
            if e["created"] >= oldest
            and (not pattern or _type_matches(e["type"], pattern))
            and (not types or e["type"] in types)
            and created_matches(e["created"], params.get("created"))
            and (wanted is None or wanted == (e["pending_webhooks"] == 0))
        ]
        return page(copy.deepcopy(found), params, "/v1/events", "event")

    def record_delivery(self, account: Account, event_id: str, status: int) -> None:
        """A webhook endpoint answered ``status`` to this event: a 2xx is a success, so the
        event no longer has a pending webhook; anything else leaves it pending (Stripe retries)."""
        for event in account.events:
            if event["id"] == event_id and 200 <= status < 300:
                event["pending_webhooks"] = 0

    def get_event(self, call: Call, object_id: str) -> dict[str, Any]:
        for event in call.account.events:
            if event["id"] == object_id:
                return copy.deepcopy(event)
        raise no_such("event", object_id)

    # -- webhook endpoints -----------------------------------------------------------------

    def _endpoint(self, account: Account, endpoint_id: str) -> dict[str, Any]:
        if endpoint_id not in account.endpoints:
            raise no_such("webhook endpoint", endpoint_id)
        return account.endpoints[endpoint_id]

    def create_endpoint(self, call: Call) -> dict[str, Any]:
        created = self._now()
        endpoint, private = new_webhook_endpoint(call.params, created, call.account.livemode)
        call.account.endpoints[endpoint["id"]] = endpoint
        call.account.endpoint_private[endpoint["id"]] = private
        # Like Stripe, the secret is shown once: in the response to the create call.
        return {**copy.deepcopy(endpoint), "secret": private["secret"]}

    def list_endpoints(self, call: Call) -> dict[str, Any]:
        check_keys(call.params, LIST_PARAMS)
        found = list(reversed(call.account.endpoints.values()))
        return page(copy.deepcopy(found), call.params, "/v1/webhook_endpoints", "webhook endpoint")

    def get_endpoint(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._endpoint(call.account, object_id))

    def update_endpoint(self, call: Call, object_id: str) -> dict[str, Any]:
        changed = copy.deepcopy(self._endpoint(call.account, object_id))
        update_webhook_endpoint(changed, call.params)
        call.account.endpoints[object_id] = changed
        return copy.deepcopy(changed)

    def delete_endpoint(self, call: Call, object_id: str) -> dict[str, Any]:
        self._endpoint(call.account, object_id)
        del call.account.endpoints[object_id]
        del call.account.endpoint_private[object_id]
        return deleted_stub(object_id, "webhook_endpoint")


def _type_matches(event_type: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern
