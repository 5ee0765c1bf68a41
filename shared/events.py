"""Which Stripe event types Omniroo handles, and which Stripe object each one is about.

This table is the single list: the webhook ignores every other type, the push worker maps each
object kind to a sync function (``shared.sync.collect.COLLECTORS``) that reads it through its
Stripe service (``shared.stripe_gateway.SERVICES``), and the webhook endpoint registered with
Stripe subscribes to exactly these types. ``tests/test_kinds.py`` checks that the three tables
agree. It imports nothing heavy, so the webhook's cold start stays small.
"""

from types import MappingProxyType

# event type -> the kind of Stripe object to refetch (``data.object.object``)
EVENT_OBJECTS = MappingProxyType(
    {
        "customer.created": "customer",
        "customer.updated": "customer",
        "customer.deleted": "customer",
        "customer.subscription.created": "subscription",
        "customer.subscription.updated": "subscription",
        "customer.subscription.deleted": "subscription",
        "customer.subscription.paused": "subscription",
        "customer.subscription.resumed": "subscription",
        "customer.subscription.trial_will_end": "subscription",
        "invoice.finalized": "invoice",
        "invoice.paid": "invoice",
        "invoice.payment_failed": "invoice",
        "invoice.voided": "invoice",
        "invoice.marked_uncollectible": "invoice",
        "charge.succeeded": "charge",
        "charge.failed": "charge",
        "charge.refunded": "charge",
        "refund.created": "refund",
        "refund.updated": "refund",
        "refund.failed": "refund",
        "product.created": "product",
        "product.updated": "product",
        "product.deleted": "product",
        "price.created": "price",
        "price.updated": "price",
        "price.deleted": "price",
        "checkout.session.completed": "checkout.session",
    }
)


# Events about the connection itself rather than about data: handled by the webhook at once,
# never queued for the push worker. The account's owner disconnecting Omniroo from their Stripe
# Dashboard arrives as ``account.application.deauthorized`` (RELIABILITY row 17).
CONNECTION_EVENTS = MappingProxyType({"account.application.deauthorized": "application"})


def subscribed() -> list[str]:
    """Every event type the Stripe webhook endpoint must be registered for."""
    return sorted({*EVENT_OBJECTS, *CONNECTION_EVENTS})
