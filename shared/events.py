"""Which Stripe event types Omniroo handles, and which Stripe object each one is about.

This table is the single list: the webhook ignores every other type, the push worker maps each
object kind to a sync function (``shared.sync.collect.COLLECTORS``) that reads it through its
Stripe service (``shared.stripe_gateway.SERVICES``), and the webhook endpoint registered with
Stripe subscribes to exactly these types. ``tests/test_kinds.py`` checks that the three tables
agree. It imports nothing heavy, so the webhook's cold start stays small.

SYNC.md says how each maps. Objects Stripe cannot read back by id (a discount has no retrieve
endpoint, https://docs.stripe.com/api/discounts) are synced through what they belong to: ``OWNERS``
names, per such kind, the field of the event's object that holds the owner's id and the kind to
sync it as; a thin event names the owner in its ``related_object.url`` instead (``OWNER_URLS``).
"""

import re
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
        "customer.discount.created": "discount",
        "customer.discount.updated": "discount",
        "customer.discount.deleted": "discount",
        "charge.succeeded": "charge",
        "charge.failed": "charge",
        "charge.captured": "charge",
        "charge.refunded": "charge",
        "charge.dispute.created": "dispute",
        "charge.dispute.updated": "dispute",
        "charge.dispute.closed": "dispute",
        "credit_note.created": "credit_note",
        "credit_note.updated": "credit_note",
        "credit_note.voided": "credit_note",
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


# kind of an event's object -> ((its field naming the owner, the kind the owner syncs as), ...):
# the first field set wins. A subscription's discount refreshes the subscription's deal; a
# customer's own discount the contact and the deals of every subscription it applies to.
OWNERS = MappingProxyType(
    {"discount": (("subscription", "subscription"), ("customer", "customer_discount"))}
)
# Kinds an owner syncs as that are no Stripe object of their own -> the object each reads: the
# customer's own discount is read as the customer (with the deals it prices).
READ_AS = MappingProxyType({"customer_discount": "customer"})
# The same for a thin event, whose related object is named by URL only.
OWNER_URLS = (
    (re.compile(r"/v1/subscriptions/([^/?#]+)/discount"), "subscription"),
    (re.compile(r"/v1/customers/([^/?#]+)/discount"), "customer_discount"),
)


# Events about the connection itself rather than about data: handled by the webhook at once,
# never queued for the push worker. The account's owner disconnecting Omniroo from their Stripe
# Dashboard arrives as ``account.application.deauthorized`` (RELIABILITY row 17).
CONNECTION_EVENTS = MappingProxyType({"account.application.deauthorized": "application"})


def subscribed() -> list[str]:
    """Every event type the Stripe webhook endpoint must be registered for."""
    return sorted({*EVENT_OBJECTS, *CONNECTION_EVENTS})
