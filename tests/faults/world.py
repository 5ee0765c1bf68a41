"""The fault suite's world: Stripe accounts with a history each, and the invariant the suite
holds the HubSpot portals to.

``build`` gives every project its own Stripe account and HubSpot portal and a history that ends
different from how it began (an email changed, a name changed, a subscription canceled), so a
stale copy cannot pass for the final state. ``divergences`` compares each portal with the final
objects of its own account, as Stripe answers them now, and names each difference; an empty list
is the promise: nothing lost, nothing duplicated, nothing stale, nothing from another account.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from shared.stripe_gateway import StripeGateway

CUSTOMERS = 4
SUBSCRIPTIONS = 2
AMOUNT = 1937  # cents: "19.37" is searched for where no amount may be
DOMAIN = "fault.example"


@dataclass(frozen=True)
class Tenant:
    account: str
    portal_id: int
    token: str
    project_id: str


def history(stripe: Any, account: str, tag: str) -> list[str]:
    """Customers and their subscriptions; the values a leak scan looks for (those ``change``
    will set included)."""
    product = stripe.create_product(account, f"Plan {tag}")["id"]
    price = stripe.create_price(account, product, AMOUNT, "usd", "month")["id"]
    customers = [
        stripe.create_customer(account, email=f"{tag}c{i}@{DOMAIN}", name=f"Name{tag} Person{i}")[
            "id"
        ]
        for i in range(CUSTOMERS)
    ]
    for customer in customers[:SUBSCRIPTIONS]:
        stripe.create_subscription(account, customer, [{"price": price}])
    emails = [f"{tag}c{i}@{DOMAIN}" for i in range(CUSTOMERS)]
    return [*emails, f"{tag}c0-new@{DOMAIN}", f"Name{tag}", f"Renamed{tag}", f"{AMOUNT / 100}"]


def final(stripe: Any, account: str, kind: str) -> list[dict[str, Any]]:
    """Every customer or subscription of the account as Stripe lists them now (oldest first),
    through the pinned library as Omniroo reads them."""
    gateway = StripeGateway(stripe.platform_key, stripe.base_url)
    params = {"status": "all"} if kind == "subscription" else {}
    return list(reversed(gateway.list(kind, account, params)))


def change(stripe: Any, account: str, tag: str) -> None:
    """Stripe moves on after the first events were synced: an email, a name, a cancellation."""
    customers = sorted(final(stripe, account, "customer"), key=lambda c: str(c["email"]))
    subscriptions = final(stripe, account, "subscription")
    stripe.update_customer(account, customers[0]["id"], email=f"{tag}c0-new@{DOMAIN}")
    stripe.update_customer(account, customers[2]["id"], name=f"Renamed{tag} Person2")
    stripe.cancel_subscription(account, subscriptions[-1]["id"])


def divergences(stripe: Any, hubspot: Any, tenants: list[Tenant]) -> list[str]:
    """Every way a portal differs from its own account's final state in Stripe."""
    owner = {
        obj["id"]: t.account
        for t in tenants
        for kind in ("customer", "subscription")
        for obj in final(stripe, t.account, kind)
    }
    found: list[str] = []
    for t in tenants:
        found += _compare(
            t,
            "contacts",
            "stripe_customer_id",
            {
                c["id"]: {"email": c.get("email") or ""}
                for c in final(stripe, t.account, "customer")
            },
            hubspot,
            owner,
        )
        found += _compare(
            t,
            "deals",
            "stripe_subscription_id",
            {
                s["id"]: {"stripe_subscription_status": s["status"]}
                for s in final(stripe, t.account, "subscription")
            },
            hubspot,
            owner,
        )
    return found


def _compare(
    tenant: Tenant,
    object_type: str,
    id_property: str,
    expected: dict[str, dict[str, str]],
    hubspot: Any,
    owner: dict[str, str],
) -> list[str]:
    records = [r for r in hubspot.records(tenant.portal_id, object_type) if not r["archived"]]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_id.setdefault(str(record["properties"].get(id_property) or ""), []).append(record)
    where = f"portal {tenant.portal_id} ({tenant.account}) {object_type}"
    found: list[str] = []
    for stripe_id, values in sorted(expected.items()):
        copies = by_id.get(stripe_id, [])
        if not copies:
            found.append(f"{where}: {stripe_id} lost")
            continue
        if len(copies) > 1:
            found.append(f"{where}: {stripe_id} duplicated x{len(copies)}")
        for name, value in sorted(values.items()):
            stored = [str(c["properties"].get(name) or "") for c in copies]
            if any(s.lower() != value.lower() for s in stored):
                found.append(f"{where}: {stripe_id} {name} is stale ({len(stored)} record(s))")
    for stripe_id, copies in sorted(by_id.items()):
        if stripe_id in expected:
            continue
        source = owner.get(stripe_id)
        what = f"leaked from {source}" if source else "not in Stripe"
        found.append(f"{where}: {stripe_id or '(no id)'} {what} x{len(copies)}")
    return found


def counts(hubspot: Any, tenants: list[Tenant]) -> Counter[str]:
    return Counter(
        object_type
        for t in tenants
        for object_type in ("contacts", "deals")
        for r in hubspot.records(t.portal_id, object_type)
        if not r["archived"]
    )
