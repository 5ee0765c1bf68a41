"""What ``make run`` serves answers Stripe's events whatever the shape of their ids: the whole
local bundle (tooling/local/server.py) over real HTTP, signed deliveries to /stripe/webhook."""

import json
import time
from typing import Any

import pytest
import requests

from doubles.server import ServerThread
from shared.webhook.signature import sign
from tests.events import make_event
from tests.plugins.stack import SECRETS, Stack
from tooling.local import server


def post(base: str, event: dict[str, Any]) -> requests.Response:
    body = json.dumps(event).encode()
    return requests.post(
        f"{base}/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": sign(body, SECRETS[0], int(time.time())),
            "Content-Type": "application/json",
        },
        timeout=10,
    )


@pytest.mark.parametrize(
    "event_id", ["evt_test_65RM8sQ6Ib9aBcDeFgHiJkLmNoPqRsTuVwXyZ012", "evt_1Ab_c"]
)
def test_the_issues_event_ids_are_2xx_and_synced_through_the_bundle(
    stack: Stack, event_id: str
) -> None:
    customer = stack.stripe.create_customer(stack.account, email="bundle@example.com")
    event = {
        **make_event(
            "customer.created", {"id": customer["id"], "object": "customer"}, stack.account
        ),
        "id": event_id,
    }
    unhandled = {**make_event("payout.paid", {"id": "po_1", "object": "payout"}, stack.account)}
    with ServerThread(server.build()) as base:
        answer = post(base, event)
        assert (answer.status_code, answer.json()["outcome"]) == (200, "accepted")
        stack.drain()
        assert stack.outcomes()[event_id]["status"] == "synced"
        ignored = post(base, {**unhandled, "id": event_id + "_payout"})
        assert (ignored.status_code, ignored.json()["outcome"]) == (200, "ignored_type")
    assert [c["properties"]["email"] for c in stack.contacts()] == ["bundle@example.com"]
