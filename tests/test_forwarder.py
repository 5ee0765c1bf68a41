"""The sandbox's forwarder delivers the Stripe double's events and reports each answer back, so
the double's List Events ``delivery_success`` filter knows what the webhook acknowledged."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from doubles.stripe import StripeDouble
from shared.webhook.signature import verify
from tooling.local.forwarder import Forwarder

SECRET = "whsec_forwarder"


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
