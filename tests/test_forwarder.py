"""The sandbox's forwarder delivers the Stripe double's events as Stripe sends them: once each, in
order, signed, as the JSON Stripe wrote (a price's decimal string stays a string), read in
Omniroo's API version; and it reports each answer back, so the double's List Events
``delivery_success`` filter knows what the webhook acknowledged."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from werkzeug.wrappers import Request, Response

from doubles.server import ServerThread
from doubles.stripe import StripeDouble
from shared.stripe_version import API_VERSION
from shared.webhook.signature import verify
from tooling.local.forwarder import Forwarder

SECRET = "whsec_forwarder_test"


def test_price_events_with_decimal_amounts_are_forwarded_unchanged_and_signed(
    stripe_double: StripeDouble,
) -> None:
    received: list[tuple[bytes, str]] = []

    def webhook(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        received.append((request.get_data(), request.headers.get("Stripe-Signature", "")))
        return Response("{}", status=200)(environ, start_response)

    account = stripe_double.add_account()
    product = stripe_double.create_product(account, "Metered API")["id"]
    stripe_double.create_price(account, product, None, "usd", "month", unit_amount_decimal="0.25")
    stripe_double.create_customer(account, email="f@example.com")
    with ServerThread(webhook) as url:
        forwarder = Forwarder(
            stripe_double.platform_key, stripe_double.base_url, url, SECRET, lambda: [account]
        )
        assert forwarder.poll_once() == 3
        assert forwarder.poll_once() == 0  # each event once
    sent = [json.loads(body) for body, _ in received]
    assert sent == stripe_double.events(account)  # oldest first, exactly as the double wrote them
    price = sent[1]["data"]["object"]
    assert (price["object"], price["unit_amount_decimal"]) == ("price", "0.25")
    for body, header in received:
        verify(body, header, [SECRET], time.time())
    assert {r["version"] for r in stripe_double.requests} == {API_VERSION}


class Endpoint:
    """A webhook endpoint that refuses (503) the events whose ids are in ``refuse``."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.received: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verify(body, self.headers["Stripe-Signature"], (SECRET,), time.time())
                event_id = json.loads(body)["id"]
                endpoint.received.append(event_id)
                self.send_response(503 if event_id in endpoint.refuse else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    yield served
    served.server.shutdown()


def test_forwarder_reports_answers_so_undelivered_events_are_listed(
    stripe_double: StripeDouble, endpoint: Endpoint
) -> None:
    account = stripe_double.add_account()
    for n in range(3):
        stripe_double.create_customer(account, email=f"f{n}@example.com")
    first, refused, last = (e["id"] for e in stripe_double.events(account))
    endpoint.refuse.add(refused)
    forwarder = Forwarder(
        stripe_double.platform_key,
        stripe_double.base_url,
        endpoint.url,
        SECRET,
        lambda: [account],
        on_result=stripe_double.record_delivery,
    )
    assert forwarder.poll_once() == 2
    assert endpoint.received == [first, refused, last]
    api = stripe.StripeClient(
        stripe_double.platform_key, base_addresses={"api": stripe_double.base_url}
    )
    undelivered = api.v1.events.list(
        params={"delivery_success": False}, options={"stripe_account": account}
    )
    assert [e.id for e in undelivered.data] == [refused]
    endpoint.refuse.clear()
    assert forwarder.poll_once() == 1  # the refused event is retried, as Stripe would
    assert (
        api.v1.events.list(
            params={"delivery_success": False}, options={"stripe_account": account}
        ).data
        == []
    )
