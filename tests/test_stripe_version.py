"""One Stripe API version: ours is the pinned library's, and every client of Stripe sends it."""

import stripe

from doubles.stripe import StripeDouble
from shared.stripe_gateway import StripeGateway
from shared.stripe_version import API_VERSION
from tooling.deploy import register


def test_our_version_is_the_one_the_pinned_library_sends_by_default() -> None:
    # Bumping `stripe` without re-checking the readers (docs/stripe-fields.md) fails here.
    assert stripe.api_version == API_VERSION


def test_the_gateway_and_the_webhook_registration_send_our_version(
    stripe_double: StripeDouble,
) -> None:
    account = stripe_double.add_account()
    customer = stripe_double.create_customer(account, email="v@example.com")
    StripeGateway(stripe_double.platform_key, stripe_double.base_url).fetch(
        "customer", customer["id"], account
    )
    register._client(stripe_double.platform_key, stripe_double.base_url).v1.webhook_endpoints.list()
    assert [r["version"] for r in stripe_double.requests] == [API_VERSION, API_VERSION]
