"""Events of every shape Stripe may send (RELIABILITY rows 10 and 45).

Ids are opaque strings whose length, format and prefix may change: a signed event with any id of
1 to 255 printable characters is answered 2xx and synced; a control character or a longer id is a
malformed event (400). Thin events (event destinations, ``object: v2.core.event``) are verified,
routed by their ``context`` and refetched like snapshot events.
"""

import json
import time
from typing import Any

import pytest
import stripe

from shared.webhook import event
from shared.webhook.signature import sign
from tests.events import make_event
from tests.plugins.stack import SECRETS, Stack

ISSUE_IDS = ("evt_test_65RM8sQ6Ib9aBcDeFgHiJkLmNoPqRsTuVwXyZ012", "evt_1Ab_c")
ODD_IDS = (*ISSUE_IDS, "evt_" + "x" * 251, "evt_a/b..c", "evt 1", "evt_%2F~")


def customer_event(stack: Stack, event_id: str, **fields: Any) -> dict[str, Any]:
    found = stack.stripe.create_customer(stack.account, email="ids@example.com", name="Ida Ids")
    made = make_event("customer.created", {"id": found["id"], "object": "customer"}, stack.account)
    return {**made, "id": event_id, **fields}


@pytest.mark.parametrize("event_id", ODD_IDS)
def test_any_printable_event_id_is_accepted_and_synced(stack: Stack, event_id: str) -> None:
    response = stack.deliver(customer_event(stack, event_id))
    assert response.status_code == 200, response.get_data()
    assert response.get_json()["outcome"] == "accepted"
    stack.drain()
    assert stack.outcomes()[event_id]["status"] == "synced"
    assert [c["properties"]["email"] for c in stack.contacts()] == ["ids@example.com"]
    assert stack.deliver(customer_event(stack, event_id)).get_json()["outcome"] == "duplicate"


@pytest.mark.parametrize(
    "event_id",
    ["evt_1\n", "evt_1\r\nforged", "evt_\x00", "evt_\t1", "evt_\x7f", "e" * 256, "", "  "],
    ids=["newline", "crlf", "nul", "tab", "del", "too-long", "empty", "blank"],
)
def test_a_control_character_or_an_over_long_id_is_a_malformed_event(
    stack: Stack, event_id: str
) -> None:
    response = stack.deliver(customer_event(stack, event_id))
    assert response.status_code == 400
    assert "id" in response.get_json()["error"]
    assert list(stack.runtime.store.scan("event_marks")) == []


def test_account_and_object_ids_are_opaque_too() -> None:
    body = make_event("customer.created", {"id": "cus_v2/x.y", "object": "customer"}, "acct_1-Z_z")
    head = event.parse(json.dumps(body).encode())
    assert (head.account, head.object_id) == ("acct_1-Z_z", "cus_v2/x.y")
    for bad in ({"account": "acct_1\n"}, {"account": "a" * 256}):
        with pytest.raises(event.BadRequest, match="account"):
            event.parse(json.dumps({**body, **bad}).encode())
    broken = {**body, "data": {"object": {"id": "cus_1\r\n", "object": "customer"}}}
    with pytest.raises(event.BadRequest, match="id has an unexpected format"):
        event.parse(json.dumps(broken).encode())


def thin(stack: Stack, type_: str, related: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A thin event as an event destination sends it (stripe-python's EventNotification)."""
    return {
        "id": "evt_test_65RM8sQ6Ib9aBcDeFgHiJkLmNoPqRsTuVwXyZ012",
        "object": "v2.core.event",
        "type": type_,
        "created": "2026-11-02T10:11:12.345Z",
        "livemode": False,
        "context": stack.account,
        "related_object": related,
        "reason": {"type": "request", "request": {"id": "req_v2x", "idempotency_key": "k1"}},
        **fields,
    }


def test_a_thin_event_is_verified_routed_by_its_context_and_refetched(stack: Stack) -> None:
    found = stack.stripe.create_customer(stack.account, email="thin@example.com", name="Thin Man")
    related = {"id": found["id"], "type": "customer", "url": f"/v1/customers/{found['id']}"}
    body = json.dumps(thin(stack, "v1.customer.created", related)).encode()
    wrong = stack.post(body, sign(body, "whsec_wrong", int(time.time())))
    assert wrong.status_code == 400  # verified like any delivery
    response = stack.post(body, sign(body, SECRETS[0], int(time.time())))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "accepted"
    stack.drain()
    outcome = stack.outcomes()["evt_test_65RM8sQ6Ib9aBcDeFgHiJkLmNoPqRsTuVwXyZ012"]
    assert (outcome["status"], outcome["type"], outcome["stripe_id"]) == (
        "synced",
        "customer.created",
        found["id"],
    )
    [contact] = stack.contacts()
    assert contact["properties"]["email"] == "thin@example.com"  # refetched: not in the event


def test_a_thin_event_of_another_account_or_an_unhandled_type_is_a_2xx_no_op(
    stack: Stack,
) -> None:
    related = {"id": "cus_x", "type": "customer", "url": "/v1/customers/cus_x"}
    for payload, outcome in (
        (
            thin(stack, "v1.customer.created", related, context="acct_stranger"),
            "ignored_unknown_account",
        ),
        (thin(stack, "v1.payout.paid", related, id="evt_2"), "ignored_type"),
        (thin(stack, "v2.core.event_destination.ping", related, id="evt_3"), "ignored_type"),
    ):
        body = json.dumps(payload).encode()
        response = stack.post(body)
        assert (response.status_code, response.get_json()["outcome"]) == (200, outcome)


def test_a_thin_discount_event_syncs_the_customer_its_url_names(stack: Stack) -> None:
    found = stack.stripe.create_customer(stack.account, email="d@example.com")
    related = {"type": "discount", "url": f"/v1/customers/{found['id']}/discount"}
    head = event.parse(json.dumps(thin(stack, "v1.customer.discount.created", related)).encode())
    assert (head.type, head.object_type, head.object_id, head.account) == (
        "customer.discount.created",
        "customer_discount",
        found["id"],
        stack.account,
    )
    assert head.created == 1793614272
    nowhere = {"type": "discount", "url": "/v1/discounts/di_1"}
    with pytest.raises(event.BadRequest, match="names no owner"):
        event.parse(json.dumps(thin(stack, "v1.customer.discount.created", nowhere)).encode())


def test_our_thin_event_is_one_stripe_pythons_own_parser_verifies_and_reads(stack: Stack) -> None:
    """The thin payload these tests send is the one Stripe sends: the library's parser (which
    checks the same Stripe-Signature) reads it as a typed v1.customer.created notification."""
    related = {"id": "cus_1", "type": "customer", "url": "/v1/customers/cus_1"}
    body = json.dumps(thin(stack, "v1.customer.created", related)).encode()
    header = sign(body, SECRETS[0], int(time.time()))
    client = stripe.StripeClient("sk_test_parser")
    notification: Any = client.parse_event_notification(body, header, SECRETS[0])
    assert type(notification).__name__ == "V1CustomerCreatedEventNotification"
    assert (notification.id, notification.type, str(notification.context)) == (
        "evt_test_65RM8sQ6Ib9aBcDeFgHiJkLmNoPqRsTuVwXyZ012",
        "v1.customer.created",
        stack.account,
    )
    assert (notification.related_object.id, notification.related_object.type) == (
        "cus_1",
        "customer",
    )
    head = event.parse(body)
    assert (head.type, head.object_id, head.account) == ("customer.created", "cus_1", stack.account)
