"""The sandbox's forwarder delivers the Stripe double's events as Stripe sends them: once each, in
order, signed, as the JSON Stripe wrote (a price's decimal string stays a string), read in
Omniroo's API version."""

import json
import time
from typing import Any

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
