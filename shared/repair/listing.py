"""Walking a project's Stripe objects page by page, as backfill and reconcile do.

Stripe lists 100 objects a page, newest first, and the next page starts after the id of the last
object seen (``starting_after``): that id is the whole cursor, so a job that stores it resumes
exactly where its last committed page ended. An object deleted since it was the cursor makes
Stripe refuse the cursor (``resource_missing``): the walk steps back to the cursor before it (a
``trail`` of the last few is kept), re-reading at most a few pages, which only marks keys again.

Which Stripe objects each selectable kind walks, and which dirty key each object becomes:

- ``customers`` -> the customer; ``products`` -> the product (its prices come with it);
- ``subscriptions`` (every status) -> the subscription;
- ``invoices`` -> a one-off invoice's own key; an invoice of a subscription marks that
  subscription instead, since the subscription's deal is what such an invoice updates;
- when subscriptions are walked too, customers with a current subscription and invoices of a
  subscription are left to the subscriptions' keys (``walk``).

Sources: docs.stripe.com/api/pagination; the ``parent.subscription_details`` of an invoice in the
API version stripe-python 16.1.0 sends (older versions: ``subscription``).
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.drain.dirty import Key, Mark
from shared.errors import PermanentFailure
from shared.mapping.invoice import subscription_of

PAGE = 100
TRAIL = 5  # cursors kept to step back to when the newest one's object was deleted
Page = list[dict[str, Any]]


class Pages(Protocol):
    """``StripeGateway.pages``: a whole list, page by page (objects, whether more follow)."""

    def pages(
        self, object_type: str, account: str, params: dict[str, Any]
    ) -> Iterator[tuple[Page, bool]]: ...


@dataclass(frozen=True)
class Listing:
    name: str  # what the operator selects: customers, subscriptions, invoices, products
    kind: str  # the Stripe object listed
    params: Mapping[str, Any] = field(default_factory=dict)
    covered: bool = False  # subscriptions are walked too: leave out what their keys write


LISTINGS: dict[str, Listing] = {
    "customers": Listing("customers", "customer"),
    "products": Listing("products", "product"),
    "subscriptions": Listing("subscriptions", "subscription", {"status": "all"}),
    "invoices": Listing("invoices", "invoice"),
}
# Products, then subscriptions (each key writes its customer's contact too), then the customers
# and one-off invoices the subscriptions did not cover.
ORDER = ("products", "subscriptions", "customers", "invoices")


def walk(name: str, walked: Sequence[str]) -> Listing:
    """How ``name`` is listed in a walk of ``walked``: when subscriptions are walked too, a
    customer with a current subscription is left out (its subscription's key writes its contact
    exactly as its own key would: the drainer's collectors plan the customer inside every
    subscription) and so is an invoice of a subscription (that subscription's key is marked).
    Without this, a contact would be written once for its customer's key and again for each of
    its subscriptions' keys whenever a drain round separates them."""
    listing = LISTINGS[name]
    if "subscriptions" not in walked or name not in ("customers", "invoices"):
        return listing
    if name == "customers":
        params = {**listing.params, "expand": ["data.subscriptions"]}
        return Listing(listing.name, listing.kind, params, covered=True)
    return Listing(listing.name, listing.kind, listing.params, covered=True)


def chosen(names: Sequence[str]) -> tuple[str, ...]:
    """The selected kinds in walking order; ``BadRequest``-worthy names raise ``ValueError``."""
    unknown = sorted(set(names) - set(LISTINGS))
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}: choose from {', '.join(ORDER)}")
    if not names:
        raise ValueError(f"choose at least one of {', '.join(ORDER)}")
    return tuple(name for name in ORDER if name in names)


@dataclass(frozen=True)
class Read:
    objects: Page
    more: bool
    trail: tuple[str, ...]  # the cursors still valid, newest last, after this read


def read_page(
    stripe: Pages, account: str, listing: Listing, trail: Sequence[str], limit: int = PAGE
) -> Read:
    """The page after the newest cursor of ``trail`` (the first page when empty), stepping back
    along the trail while Stripe refuses a cursor whose object is gone."""
    kept = list(trail)
    while True:
        params: dict[str, Any] = {**listing.params, "limit": limit}
        if kept:
            params["starting_after"] = kept[-1]
        try:
            objects, more = next(stripe.pages(listing.kind, account, params))
        except PermanentFailure as exc:
            if exc.code != "stripe_resource_missing" or not kept:
                raise
            kept.pop()
            continue
        return Read(objects, more, tuple(kept))


def advanced(read: Read) -> tuple[str, ...]:
    """The trail once ``read``'s page is committed."""
    if not read.objects:
        return read.trail
    return (*read.trail, str(read.objects[-1]["id"]))[-TRAIL:]


def keys_of(project_id: str, listing: Listing, objects: Page) -> list[Key]:
    """The dirty keys a page of ``listing`` marks (one per key, in page order)."""
    keys: dict[Key, None] = {}
    for obj in objects:
        if listing.covered and ((obj.get("subscriptions") or {}).get("data")):
            continue  # a customer whose current subscriptions' keys write its contact
        if listing.kind == "invoice" and (sub := subscription_of(obj)):
            if not listing.covered:
                keys[Key(project_id, "subscription", sub)] = None
        else:
            keys[Key(project_id, listing.kind, str(obj["id"]))] = None
    return list(keys)


def marks(keys: Sequence[Key], since: float) -> list[Mark]:
    """A walk's marks: any Stripe read made since the walk began serves them (``Mark.since``)."""
    return [Mark(key, since=since) for key in keys]
