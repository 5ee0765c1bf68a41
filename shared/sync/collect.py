"""What to read from Stripe for each kind of object, and the plan that makes HubSpot match it.

Every event refetches current state, so duplicates and out-of-order deliveries converge. Anything
that touches a customer's billing (subscription, invoice, charge, refund, dispute, credit note,
discount, checkout) also recomputes that customer's contact, so MRR and lifetime value are never
incremented, only recomputed from Stripe. Objects are read in API version 2026-10-28.endive
(``shared.sync.reads``); docs/stripe-fields.md lists every field read here and below.
"""

from collections.abc import Callable
from typing import Any

from shared.billing.metrics import contact_metrics
from shared.billing.mrr import BillingSettings
from shared.errors import PermanentFailure
from shared.mapping.company import company_for
from shared.mapping.customer import map_customer
from shared.mapping.invoice import invoice_plan, subscription_of
from shared.mapping.ops import Archive, Link, Op, Skip, Upsert, ref
from shared.mapping.product import product_op
from shared.mapping.subscription import subscription_plan
from shared.sync import reads
from shared.sync.reads import SUBSCRIPTION_EXPAND, Billing, Source

__all__ = ["COLLECTORS", "SUBSCRIPTION_EXPAND", "Source"]

# Invoices a subscription made (https://docs.stripe.com/api/invoices/object#invoice_object-
# billing_reason): they refresh the subscription's deal and never become deals of their own.
SUBSCRIPTION_REASONS = frozenset(
    {
        "subscription",
        "subscription_create",
        "subscription_cycle",
        "subscription_threshold",
        "subscription_update",
    }
)
ENDED = frozenset({"canceled", "incomplete_expired"})


def _id(value: Any) -> str:
    return str(value.get("id")) if isinstance(value, dict) else str(value or "")


def _customer(src: Source, customer_id: str) -> tuple[Billing, list[Op]]:
    """The customer's billing as Stripe has it, and the operations bringing its contact (and
    company) up to date."""
    customer = reads.customer(src, customer_id)
    op = map_customer(customer, src.account, src.settings)
    if not isinstance(op, Upsert):
        return Billing(customer), [op]
    found = reads.billing(src, customer)
    metrics = contact_metrics(
        customer,
        found.subscriptions,
        found.charges,
        found.invoices,
        src.now,
        BillingSettings(src.settings.trials_count_as_mrr),
        found.disputes,
    )
    metadata = customer.get("metadata") or {}
    mapped = {prop: str(metadata.get(key, "")) for key, prop in src.settings.metadata_mappings}
    upsert = Upsert(op.object_type, op.id_property, op.id, {**op.properties, **metrics, **mapped})
    company = company_for(customer, src.settings)
    if company is None:
        return found, [upsert]
    return found, [upsert, company, Link(ref(upsert), ref(company))]


def customer_ops(src: Source, customer_id: str) -> tuple[dict[str, Any], list[Op]]:
    """The customer as Stripe has it, and the operations bringing its contact up to date."""
    found, ops = _customer(src, customer_id)
    return found.customer, ops


def _deal(src: Source, sub: dict[str, Any], customer: dict[str, Any], ops: list[Op]) -> list[Op]:
    deal_ops = subscription_plan(sub, customer, src.account, src.settings, src.now)
    return deal_ops + _company_links(ops, deal_ops)


def _subscription(src: Source, subscription_id: str) -> list[Op]:
    sub = reads.subscription(src, subscription_id)
    customer, ops = customer_ops(src, _id(sub["customer"]))
    if not src.settings.syncs("subscriptions"):
        return ops
    return ops + _deal(src, sub, customer, ops)


def _company_links(customer_ops: list[Op], deal_ops: list[Op]) -> list[Op]:
    """Deals join the customer's company too, when there is one."""
    companies = [
        op for op in customer_ops if isinstance(op, Upsert) and op.object_type == "companies"
    ]
    deals = [op for op in deal_ops if isinstance(op, Upsert) and op.object_type == "deals"]
    return [Link(ref(deal), ref(company)) for deal in deals for company in companies]


def sync_customer(src: Source, object_id: str) -> list[Op]:
    return customer_ops(src, object_id)[1]


def sync_customer_discount(src: Source, object_id: str) -> list[Op]:
    """The customer's own discount changed: its contact, and the deal of every subscription the
    discount applies to (those without a discount of their own), recomputed together."""
    found, ops = _customer(src, object_id)
    if not src.settings.syncs("subscriptions") or not isinstance(ops[0], Upsert):
        return ops
    affected = [
        s for s in found.subscriptions if not s.get("discounts") and s.get("status") not in ENDED
    ]
    for listed in affected:
        ops += _deal(src, reads.subscription(src, listed["id"]), found.customer, ops)
    return ops


def sync_subscription(src: Source, object_id: str) -> list[Op]:
    return _subscription(src, object_id)


def sync_invoice(src: Source, object_id: str) -> list[Op]:
    invoice = src.stripe.fetch("invoice", object_id, src.account)
    subscription = subscription_of(invoice)
    if subscription:
        return _subscription(src, subscription)
    if invoice.get("billing_reason") in SUBSCRIPTION_REASONS:
        return [Skip("subscription_invoice_without_subscription")]
    customer, ops = customer_ops(src, _id(invoice["customer"]))
    if not src.settings.syncs("invoices"):
        return ops
    deal_ops = invoice_plan(invoice, customer, src.account)
    return ops + deal_ops + _company_links(ops, deal_ops)


def sync_credit_note(src: Source, object_id: str) -> list[Op]:
    """A credit note changes what its invoice is worth (and, through its refunds, the
    customer's lifetime value): its invoice is synced again."""
    note = src.stripe.fetch("credit_note", object_id, src.account)
    return sync_invoice(src, _id(note["invoice"]))


def sync_charge(src: Source, object_id: str) -> list[Op]:
    charge = src.stripe.fetch("charge", object_id, src.account)
    if not charge.get("customer"):
        return [Skip("charge_without_customer")]
    return customer_ops(src, _id(charge["customer"]))[1]


def sync_refund(src: Source, object_id: str) -> list[Op]:
    refund = src.stripe.fetch("refund", object_id, src.account, ("charge",))
    charge = refund.get("charge")
    if not isinstance(charge, dict) or not charge.get("customer"):
        return [Skip("refund_without_customer")]
    return customer_ops(src, _id(charge["customer"]))[1]


def sync_dispute(src: Source, object_id: str) -> list[Op]:
    dispute = src.stripe.fetch("dispute", object_id, src.account, ("charge",))
    charge = dispute.get("charge")
    if not isinstance(charge, dict) or not charge.get("customer"):
        return [Skip("dispute_without_customer")]
    return customer_ops(src, _id(charge["customer"]))[1]


def sync_product(src: Source, object_id: str) -> list[Op]:
    if not src.settings.syncs("products"):
        return [Skip("products_not_synced")]
    try:
        product = src.stripe.fetch("product", object_id, src.account)
    except PermanentFailure as exc:
        if exc.code != "stripe_resource_missing":
            raise
        product = {"deleted": True}
    if product.get("deleted"):
        return [Skip("product_deleted")]  # Stripe deletes only products without prices
    prices = src.stripe.list("price", src.account, {"product": object_id})
    return [product_op({**price, "product": product}) for price in prices] or [
        Skip("product_without_prices")
    ]


def sync_price(src: Source, object_id: str) -> list[Op]:
    if not src.settings.syncs("products"):
        return [Skip("products_not_synced")]
    try:
        price = src.stripe.fetch("price", object_id, src.account, ("product",))
    except PermanentFailure as exc:
        if exc.code != "stripe_resource_missing":
            raise
        # A deleted price is gone from Stripe: its HubSpot product goes to the archive.
        return [Archive("products", "stripe_price_id", object_id)]
    return [product_op(price)]


def sync_checkout(src: Source, object_id: str) -> list[Op]:
    session = src.stripe.fetch("checkout.session", object_id, src.account)
    if session.get("subscription"):
        return _subscription(src, _id(session["subscription"]))
    if session.get("customer"):
        return customer_ops(src, _id(session["customer"]))[1]
    return [Skip("checkout_without_customer")]


# Stripe object kind -> what to read and map (one entry per kind in shared/events.py, and per
# owner kind of its OWNERS table: a discount syncs as its subscription or "customer_discount")
COLLECTORS: dict[str, Callable[[Source, str], list[Op]]] = {
    "customer": sync_customer,
    "customer_discount": sync_customer_discount,
    "subscription": sync_subscription,
    "invoice": sync_invoice,
    "credit_note": sync_credit_note,
    "charge": sync_charge,
    "refund": sync_refund,
    "dispute": sync_dispute,
    "product": sync_product,
    "price": sync_price,
    "checkout.session": sync_checkout,
}
