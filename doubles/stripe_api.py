"""What the Stripe double does with each API call: customers, events and webhook endpoints.

Every mutation of a customer records the event Stripe would send, with the same shape.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from doubles.stripe_objects import (
    apply_customer,
    deleted_stub,
    new_customer,
    new_webhook_endpoint,
    update_webhook_endpoint,
)
from doubles.stripe_wire import (
    API_VERSION,
    as_bool,
    as_list,
    check_keys,
    created_matches,
    no_such,
    page,
    previous_attributes,
    random_id,
)

_LIST_PARAMS = ("limit", "starting_after", "ending_before", "expand", "created")


@dataclass
class Account:
    """One namespace: the platform's own (id None) or a connected account's."""

    id: str | None
    livemode: bool
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # creation order
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoint_private: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: dict[str, Any] = field(default_factory=dict)  # idempotency key -> response


@dataclass(frozen=True)
class Call:
    account: Account
    params: dict[str, Any]
    request: tuple[str | None, str | None]  # (request id, idempotency key) for events


class StripeApi:
    """The resources, one method per route; each takes the call and the path's object id."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    # -- customers -------------------------------------------------------------------------

    def create_customer(self, call: Call) -> dict[str, Any]:
        customer = new_customer(int(self._clock()), call.account.livemode)
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
        del call.account.customers[customer_id]
        stub = call.account.deleted[customer_id] = deleted_stub(customer_id, "customer")
        self._emit(call, "customer.deleted", customer)
        return dict(stub)

    @staticmethod
    def _live_customer(account: Account, customer_id: str) -> dict[str, Any]:
        if customer_id not in account.customers:
            raise no_such("customer", customer_id)
        return account.customers[customer_id]

    def _emit(
        self, call: Call, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        event: dict[str, Any] = {"id": random_id("evt_", 24), "object": "event"}
        if call.account.id:
            event["account"] = call.account.id
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        request_id, key = call.request
        event.update(
            {
                "api_version": API_VERSION,
                "created": int(self._clock()),
                "data": data,
                "livemode": call.account.livemode,
                "pending_webhooks": 1,
                "request": {"id": request_id, "idempotency_key": key},
                "type": type_,
            }
        )
        call.account.events.append(event)

    def get_customer(self, call: Call, object_id: str) -> dict[str, Any]:
        if object_id in call.account.deleted:
            return dict(call.account.deleted[object_id])
        return copy.deepcopy(self._live_customer(call.account, object_id))

    def list_customers(self, call: Call) -> dict[str, Any]:
        check_keys(call.params, (*_LIST_PARAMS, "email", "test_clock"))
        email = call.params.get("email")
        found = [
            c
            for c in reversed(call.account.customers.values())
            if (not email or c["email"] == email)
            and created_matches(c["created"], call.params.get("created"))
        ]
        return page(copy.deepcopy(found), call.params, "/v1/customers", "customer")

    # -- events ----------------------------------------------------------------------------

    def list_events(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, (*_LIST_PARAMS, "type", "types", "delivery_success"))
        types = [str(t) for t in as_list(params.get("types", []), "types")]
        if params.get("type"):
            types.append(str(params["type"]))
        delivered = params.get("delivery_success")
        found = [
            e
            for e in reversed(call.account.events)
            if (not types or any(_type_matches(e["type"], t) for t in types))
            and created_matches(e["created"], params.get("created"))
            # Nothing is ever delivered from the double: every event still has pending webhooks.
            and (delivered in (None, "") or not as_bool(delivered, "delivery_success"))
        ]
        return page(copy.deepcopy(found), params, "/v1/events", "event")

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
        created = int(self._clock())
        endpoint, private = new_webhook_endpoint(call.params, created, call.account.livemode)
        call.account.endpoints[endpoint["id"]] = endpoint
        call.account.endpoint_private[endpoint["id"]] = private
        # Like Stripe, the secret is shown once: in the response to the create call.
        return {**copy.deepcopy(endpoint), "secret": private["secret"]}

    def list_endpoints(self, call: Call) -> dict[str, Any]:
        check_keys(call.params, _LIST_PARAMS)
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
