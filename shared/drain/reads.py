"""Which Stripe pages a round reads before its collectors run, decided from its keys alone.

The collectors of ``shared.sync.collect`` read, for every key: the key's own object (an invoice,
a charge, a subscription), the subscription an invoice belongs to (expanded as
``SUBSCRIPTION_EXPAND`` asks), and for its customer the customer itself and every subscription,
charge and (newest) invoice of that customer. So a round first reads the pages holding its keys'
own objects, learns their subscriptions and customers, then the pages that answer the
per-customer lists: each through ``Snapshot.prime``'s rent-or-buy rule. Whatever the pages miss
is still read one by one, so a change in what the collectors read costs reads, never accuracy.
"""

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable

from shared.drain.dirty import Key
from shared.drain.parallel import each
from shared.drain.snapshot import Snapshot, id_of
from shared.mapping.invoice import subscription_of
from shared.stripe_gateway import StripeGateway
from shared.sync.reads import CUSTOMER_EXPAND, SUBSCRIPTION_EXPAND, SUBSCRIPTION_LIST_EXPAND

# What the pages of each kind expand: what the collectors ask of a customer, and of a
# subscription whether fetched alone (SUBSCRIPTION_EXPAND) or listed for its customer.
# "discounts" is named although "discounts.source.coupon" implies it: a caller that asks for
# less gets the pages' expansions undone path by path, and only a named path is undone.
EXPAND = {
    "customer": CUSTOMER_EXPAND,
    "subscription": (
        *SUBSCRIPTION_EXPAND,
        "discounts",
        *(path.removeprefix("data.") for path in SUBSCRIPTION_LIST_EXPAND),
    ),
}
SUBSCRIPTIONS = {"status": "all"}  # every status, as the collectors list them


def snapshot(stripe: StripeGateway, account: str) -> Snapshot:
    return Snapshot(stripe, account, EXPAND)


def prime(pages: Snapshot, keys: Iterable[Key], payments: bool) -> None:
    """Read the pages a round of these keys needs."""
    ids: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        ids[key.kind].add(key.object_id)
    together(*[functools.partial(pages.prime, kind, ids[kind]) for kind in ("invoice", "charge")])
    invoices = [i for i in pages.held("invoice") if i["id"] in ids["invoice"]]
    subscriptions = ids["subscription"] | {s for s in map(subscription_of, invoices) if s}
    pages.prime("subscription", subscriptions, params=SUBSCRIPTIONS)
    customers = set(ids["customer"])
    for kind, chosen in (
        ("invoice", ids["invoice"]),
        ("charge", ids["charge"]),
        ("subscription", subscriptions),
    ):
        customers |= {id_of(o.get("customer")) for o in pages.held(kind) if o["id"] in chosen}
    customers.discard("")
    # The customers first: the oldest of them bounds how far their subscriptions and invoices
    # reach down the lists (``Snapshot``). Then each kind is its own list with its own cursor:
    # read side by side (Stripe allows 100 reads a second; one page at a time, a round waited
    # on each page's round trip).
    pages.prime("customer", customers)
    oldest = pages.oldest(customers)
    together(
        lambda: pages.prime(
            "subscription", demand=len(customers), params=SUBSCRIPTIONS, down_to=oldest
        ),
        lambda: pages.prime("invoice", demand=len(customers), down_to=oldest),
        *([lambda: pages.prime("charge", demand=len(customers))] if payments else []),
    )


def together(*reads: Callable[[], None]) -> None:
    """Run the reads at once; the first error is raised once all have ended."""
    each(lambda read: read(), reads, len(reads))
