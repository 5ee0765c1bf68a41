"""What to read from Stripe for each kind of object, and the plan that makes HubSpot match it.

Every event refetches current state, so duplicates and out-of-order deliveries converge. Anything
that touches a customer's billing (subscription, invoice, charge, refund, checkout) also
recomputes that customer's contact, so MRR and lifetime value are never incremented, only
recomputed from Stripe.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.billing.metrics import contact_metrics
from shared.billing.mrr import BillingSettings
from shared.errors import PermanentFailure
from shared.mapping.company import company_for
from shared.mapping.customer import map_customer
from shared.mapping.invoice import invoice_plan
from shared.mapping.ops import Archive, Link, Op, Skip, Upsert, ref
from shared.mapping.product import product_op
from shared.mapping.subscription import subscription_plan
from shared.project_settings import ProjectSettings
from shared.stripe_gateway import StripeReads

# What MRR and the deal need expanded (Stripe expands at most four levels deep).
SUBSCRIPTION_EXPAND = (
    "items.data.price.product",
    "items.data.price.tiers",
    "items.data.discounts",
    "latest_invoice",
    "discounts",
)


@dataclass(frozen=True)
class Source:
    stripe: StripeReads
    account: str
    settings: ProjectSettings
    now: float


def _id(value: Any) -> str:
    return str(value.get("id")) if isinstance(value, dict) else str(value or "")


def customer_ops(src: Source, customer_id: str) -> tuple[dict[str, Any], list[Op]]:
    """The customer as Stripe has it, and the operation bringing its contact up to date."""
    customer = src.stripe.fetch("customer", customer_id, src.account)
    op = map_customer(customer, src.account, src.settings)
    if not isinstance(op, Upsert):
        return customer, [op]
    subs = _with_tiers(
        src,
        src.stripe.list(
            "subscription",
            src.account,
            {"customer": customer_id, "status": "all", "expand": ["data.discounts"]},
        ),
    )
    charges = (
        src.stripe.list("charge", src.account, {"customer": customer_id})
        if src.settings.syncs("payments")
        else []
    )
    # The newest page is enough for last payment status and delinquency.
    invoices = src.stripe.list("invoice", src.account, {"customer": customer_id}, pages=1)
    metrics = contact_metrics(
        customer,
        subs,
        charges,
        invoices,
        src.now,
        BillingSettings(src.settings.trials_count_as_mrr),
    )
    metadata = customer.get("metadata") or {}
    mapped = {prop: str(metadata.get(key, "")) for key, prop in src.settings.metadata_mappings}
    upsert = Upsert(op.object_type, op.id_property, op.id, {**op.properties, **metrics, **mapped})
    company = company_for(customer, src.settings)
    if company is None:
        return customer, [upsert]
    return customer, [upsert, company, Link(ref(upsert), ref(company))]


def _with_tiers(src: Source, subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tiers of tiered prices, which a subscription list cannot expand (too deep): one read per
    distinct tiered price."""
    tiered: dict[str, dict[str, Any]] = {}
    for sub in subs:
        for item in (sub.get("items") or {}).get("data") or []:
            price = item.get("price") or {}
            if price.get("billing_scheme") == "tiered" and price.get("tiers") is None:
                if price["id"] not in tiered:
                    tiered[price["id"]] = src.stripe.fetch(
                        "price", price["id"], src.account, ("tiers",)
                    )
                item["price"] = tiered[price["id"]]
    return subs


def _subscription(src: Source, subscription_id: str) -> list[Op]:
    sub = src.stripe.fetch("subscription", subscription_id, src.account, SUBSCRIPTION_EXPAND)
    customer, ops = customer_ops(src, _id(sub["customer"]))
    if not src.settings.syncs("subscriptions"):
        return ops
    deal_ops = subscription_plan(sub, customer, src.account, src.settings, src.now)
    return ops + deal_ops + _company_links(ops, deal_ops)


def _company_links(customer_ops: list[Op], deal_ops: list[Op]) -> list[Op]:
    """Deals join the customer's company too, when there is one."""
    companies = [
        op for op in customer_ops if isinstance(op, Upsert) and op.object_type == "companies"
    ]
    deals = [op for op in deal_ops if isinstance(op, Upsert) and op.object_type == "deals"]
    return [Link(ref(deal), ref(company)) for deal in deals for company in companies]


def sync_customer(src: Source, object_id: str) -> list[Op]:
    return customer_ops(src, object_id)[1]


def sync_subscription(src: Source, object_id: str) -> list[Op]:
    return _subscription(src, object_id)


def sync_invoice(src: Source, object_id: str) -> list[Op]:
    invoice = src.stripe.fetch("invoice", object_id, src.account)
    if invoice.get("subscription"):
        return _subscription(src, _id(invoice["subscription"]))
    customer, ops = customer_ops(src, _id(invoice["customer"]))
    if not src.settings.syncs("invoices"):
        return ops
    deal_ops = invoice_plan(invoice, customer, src.account)
    return ops + deal_ops + _company_links(ops, deal_ops)


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


# Stripe object kind -> what to read and map (one entry per kind in shared/events.py)
COLLECTORS: dict[str, Callable[[Source, str], list[Op]]] = {
    "customer": sync_customer,
    "subscription": sync_subscription,
    "invoice": sync_invoice,
    "charge": sync_charge,
    "refund": sync_refund,
    "product": sync_product,
    "price": sync_price,
    "checkout.session": sync_checkout,
}
