"""A project's Stripe data for one drain round: read in list pages, served to the collectors.

The collectors (``shared.sync.collect``) read Stripe through ``fetch`` and ``list``, an object or a
customer at a time: right for one event, ruinous for a burst (50,000 objects one by one take 500 s
at Stripe's 100 reads a second). A ``Snapshot`` has the same two methods. The drainer first
``prime``s it with list pages of 100; it then answers what those pages cover from memory — the
object ``fetch`` or ``list`` would have returned, with the same expansions — and passes anything
else to Stripe, remembering each answer for the round.

Listing is a rent-or-buy choice made per kind, not knowing the account's size: keep reading pages
while they cost less than the one-by-one reads they would save; once they cost as much, stop and
read the rest one by one. Either way a round reads at most about twice what the cheaper choice
would have. Rounds with only a few objects of a kind read them one by one.

A customer's list needs only the listing's head: Stripe lists newest first, and a subscription or
an invoice is never older than its customer (both name their customer when created, and neither
can change it: docs.stripe.com/api/subscriptions/update, /api/invoices/update). So once the pages
reach an object older than the customer, they hold all of that customer's subscriptions and
invoices, and a round of recent customers (a backfill's first rounds) reads a few pages instead of
the whole account. Charges are always read to the end: a charge may be given its customer after it
was created (docs.stripe.com/api/charges/update, ``customer``).

Freshness: a round's snapshot is read after its keys were taken, so it is at least as new as
every mark it answers for. It lives for that round, and for the next ones of the same drain whose
keys were all marked for reads begun before it (a backfill's: ``Taken.read_after``).
"""

import builtins
import json
import marshal
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.errors import PermanentFailure
from shared.stripe_gateway import MAX_PAGES, StripeGateway

# An expandable field's name -> the kind of object its id names (what resolving it fetches)
FIELD_KINDS = {
    "customer": "customer",
    "subscription": "subscription",
    "latest_invoice": "invoice",
    "invoice": "invoice",
    "charge": "charge",
    "product": "product",
    "price": "price",
}
LIST_DEPTH = 4  # Stripe expands at most four levels, and a list's "data." is one of them
MAX_LISTED = 50_000  # objects of one kind held for a round; past that, the rest one by one
BULK_MIN = 5  # fewer objects (or customers) than this: read one by one
_LIST_PARAMS = {"customer", "status", "expand", "limit"}
NEVER_OLDER = frozenset({"subscription", "invoice"})  # than their customer (see above)

Obj = dict[str, Any]
Objs = list[Obj]


def _copy(obj: Any) -> Any:
    """A deep copy of a page's plain JSON (dicts, lists, strings, numbers): through ``marshal``,
    four times faster than a JSON round trip, itself five times faster than ``copy.deepcopy``.
    Only this process's own objects pass through it, never bytes from elsewhere."""
    return marshal.loads(marshal.dumps(obj))  # noqa: S302  # nosec B302


def _plain(obj: Any) -> Any:
    """A one-by-one read's answer as the pages hold theirs, plain JSON: the library reads
    decimal strings ("2500.5") into Decimals, which only the slow ``copy.deepcopy`` copies."""
    return json.loads(json.dumps(obj, default=_decimal))


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def id_of(value: Any) -> str:
    """The id of an expandable field, expanded or not ("" when empty)."""
    return str(value.get("id") or "") if isinstance(value, dict) else str(value or "")


@dataclass
class _Listing:
    expand: frozenset[str]  # paths (relative to each object) the pages were asked to expand
    params: dict[str, Any]
    objects: dict[str, Obj] = field(default_factory=dict)  # newest first, as Stripe lists
    pages: int = 0
    cursor: str | None = None
    complete: bool = False
    floor: int | None = None  # ``created`` of the last object read: every newer one is held
    by_customer: dict[str, Objs] | None = None


class Snapshot:
    def __init__(
        self,
        stripe: StripeGateway,
        account: str,
        expand: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._stripe = stripe
        self.account = account
        self._expand = {kind: tuple(paths) for kind, paths in (expand or {}).items()}
        self._listings: dict[str, _Listing] = {}
        self._memo: dict[str, Any] = {}
        self._created: dict[str, int] = {}  # customer id -> its ``created``, from what was read
        self._count = threading.Lock()  # kinds are primed side by side (``reads.together``)
        self.reads = 0  # Stripe calls this snapshot made (pages and one-by-one reads)
        self.listed = 0  # objects the pages held

    # -- what the collectors call ----------------------------------------------------------

    def fetch(
        self, object_type: str, object_id: str, account: str, expand: tuple[str, ...] = ()
    ) -> Obj:
        self._same(account)
        listing = self._listings.get(object_type)
        if listing is not None and object_id in listing.objects:
            served = self._serve(listing, listing.objects[object_id], expand)
            if served is not None:
                return served
        key = json.dumps(["fetch", object_type, object_id, sorted(expand)])
        if key not in self._memo:
            self.reads += 1
            self._memo[key] = _plain(self._stripe.fetch(object_type, object_id, account, expand))
            if object_type == "customer":
                self._learn(self._memo[key])
        found: Obj = _copy(self._memo[key])
        return found

    def list(
        self, object_type: str, account: str, params: dict[str, Any], pages: int = MAX_PAGES
    ) -> Objs:
        self._same(account)
        listing = self._listings.get(object_type)
        if listing is not None and self._covers(object_type, listing, params):
            rows = self._rows(listing, params)
            if pages < MAX_PAGES:
                rows = rows[: pages * 100]
            elif len(rows) > MAX_PAGES * 100:
                raise PermanentFailure(f"stripe_too_many_{object_type}")
            wanted = tuple(p.removeprefix("data.") for p in params.get("expand") or ())
            served = [self._serve(listing, obj, wanted) for obj in rows]
            if all(s is not None for s in served):
                return [s for s in served if s is not None]
        key = json.dumps(["list", object_type, params, pages], sort_keys=True)
        if key not in self._memo:
            self.reads += 1
            self._memo[key] = _plain(self._stripe.list(object_type, account, params, pages))
        found: Objs = _copy(self._memo[key])
        return found

    # -- reading pages ---------------------------------------------------------------------

    def prime(
        self,
        kind: str,
        wanted: Collection[str] = (),
        demand: int = 0,
        params: dict[str, Any] | None = None,
        down_to: int | None = None,
    ) -> None:
        """Read pages of ``kind`` until every id of ``wanted`` is held and, when ``demand`` (the
        one-by-one list calls a complete listing saves) is set, to the end — or, given
        ``down_to``, until every object created at or after it is held; stop early once the
        pages read cost as much as the reads they would still save."""
        if len(wanted) + demand < BULK_MIN:
            return
        listing = self._listing(kind, params or {})
        missing = {i for i in wanted if i not in listing.objects}
        while not listing.complete and len(listing.objects) < MAX_LISTED:
            if down_to is not None and listing.floor is not None and listing.floor < down_to:
                demand = 0  # the customers' lists are held: what is left is ``wanted``
            saved = len(missing) + demand
            if saved == 0 or listing.pages >= saved:
                return
            missing.difference_update(self._next_page(kind, listing))

    def held(self, kind: str) -> Objs:
        """The objects the pages of ``kind`` held (to find what else a round needs)."""
        listing = self._listings.get(kind)
        return list(listing.objects.values()) if listing else []

    def oldest(self, customers: Iterable[str]) -> int | None:
        """The earliest ``created`` of these customers, of those read so far (None: none was)."""
        known = [self._created[c] for c in customers if c in self._created]
        return min(known) if known else None

    def _listing(self, kind: str, params: dict[str, Any]) -> _Listing:
        if kind not in self._listings:
            # Expand in the pages what fits in Stripe's depth and is no other kind's object:
            # those are resolved from that kind's pages, or read once each.
            paths = frozenset(
                p
                for p in self._expand.get(kind, ())
                if p.count(".") + 2 <= LIST_DEPTH and p.split(".")[-1] not in FIELD_KINDS
            )
            self._listings[kind] = _Listing(paths, params)
        return self._listings[kind]

    def _next_page(self, kind: str, listing: _Listing) -> builtins.list[str]:
        """Read the next page into ``listing``; the ids it held."""
        query: dict[str, Any] = dict(listing.params)
        if listing.expand:
            query["expand"] = sorted(f"data.{p}" for p in listing.expand)
        if listing.cursor:
            query["starting_after"] = listing.cursor
        data, more = next(self._stripe.pages(kind, self.account, query))
        with self._count:
            self.reads += 1
            self.listed += len(data)
        listing.pages += 1
        for obj in data:
            listing.objects.setdefault(str(obj["id"]), obj)
            if kind == "customer":
                self._learn(obj)
        if data:
            listing.cursor = str(data[-1]["id"])
            listing.floor = int(data[-1].get("created") or 0)
            listing.by_customer = None
        listing.complete = not more
        return [str(obj["id"]) for obj in data]

    def _learn(self, customer: Obj) -> None:
        if isinstance(customer.get("created"), int):
            self._created[str(customer["id"])] = customer["created"]

    # -- serving from pages ----------------------------------------------------------------

    def _covers(self, kind: str, listing: _Listing, params: dict[str, Any]) -> bool:
        """Whether the pages hold every object ``params`` asks for: all of them, or all of one
        customer's where those are never older than the customer."""
        if not self._filters(listing, params):
            return False
        if listing.complete:
            return True
        customer = str(params.get("customer") or "")
        if kind not in NEVER_OLDER or listing.floor is None or customer not in self._created:
            return False
        return self._created[customer] > listing.floor

    def _filters(self, listing: _Listing, params: dict[str, Any]) -> bool:
        """Whether filtering the complete listing gives what Stripe would answer ``params``."""
        if not set(params) <= _LIST_PARAMS:
            return False
        return params.get("status") == listing.params.get("status")

    def _rows(self, listing: _Listing, params: dict[str, Any]) -> Objs:
        if "customer" not in params:
            return list(listing.objects.values())
        if listing.by_customer is None:
            listing.by_customer = defaultdict(list)
            for obj in listing.objects.values():
                listing.by_customer[id_of(obj.get("customer"))].append(obj)
        return list(listing.by_customer.get(str(params["customer"]), []))

    def _serve(self, listing: _Listing, obj: Obj, expand: Iterable[str]) -> Obj | None:
        """``obj`` as Stripe would answer it expanded as asked, or None when that needs more
        than the pages and one-by-one reads can give."""
        out: Obj = _copy(obj)
        wanted = set(expand)
        for path in listing.expand - wanted:
            if not any(w.startswith(path + ".") for w in wanted):  # a.b.c implies a expanded
                _collapse(out, path.split("."))
        for path in sorted(wanted - listing.expand):
            if not self._resolve(out, path.split(".")):
                return None
        return out

    def _resolve(self, node: Any, path: Sequence[str]) -> bool:
        if isinstance(node, builtins.list):
            return all(self._resolve(item, path) for item in node)
        if not isinstance(node, dict):
            return False
        head, rest = path[0], path[1:]
        if rest:
            child = node.get(head)
            return child is None or self._resolve(child, rest)
        value = node.get(head)
        if isinstance(value, dict) or (head in node and value is None):
            return True  # already expanded, or nothing to expand
        if isinstance(value, str) and head in FIELD_KINDS:
            node[head] = self.fetch(FIELD_KINDS[head], value, self.account)
            return True
        if head not in node and node.get("object") in FIELD_KINDS.values() and node.get("id"):
            # An includable field (a price's tiers): the object itself, read once with it.
            node[head] = self.fetch(str(node["object"]), str(node["id"]), self.account, (head,))[
                head
            ]
            return True
        return False

    def _same(self, account: str) -> None:
        if account != self.account:
            raise ValueError("a snapshot serves the one Stripe account it was made for")


def _collapse(node: Any, path: list[str]) -> None:
    """Undo an expansion the pages made and the caller did not ask for."""
    if isinstance(node, list):
        for item in node:
            _collapse(item, path)
        return
    if not isinstance(node, dict) or path[0] not in node:
        return
    if len(path) > 1:
        _collapse(node[path[0]], path[1:])
        return
    value = node[path[0]]
    if isinstance(value, dict) and "id" in value:
        node[path[0]] = value["id"]
    elif isinstance(value, list):
        node[path[0]] = [v["id"] if isinstance(v, dict) and "id" in v else v for v in value]
