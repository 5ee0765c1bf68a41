"""What every resource of the Stripe double shares: accounts, calls, the store, events and time.

Objects are kept per account and per kind, in creation order, exactly as the API shows them; what
Stripe returns only when expanded (a price's ``tiers``, a charge's ``refunds``...) is kept beside
them in ``Account.private``. Each resource module adds one layer on ``ApiBase``.
"""

import calendar
import copy
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from doubles.stripe.wire import (
    API_VERSION,
    StripeError,
    check_keys,
    copied,
    created_matches,
    invalid,
    merge_metadata,
    no_such,
    page_of,
    previous_attributes,
    random_id,
)

LIST_PARAMS = ("limit", "starting_after", "ending_before", "expand", "created")
# Stripe names the platform's own account in URLs (hosted invoices); the double's platform has none.
PLATFORM_ACCOUNT = "acct_1OmnirooPlatform0"
# Currencies whose smallest unit is the unit itself (Stripe's list): amounts are whole yen etc.
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
_NAMES = {  # kind -> how Stripe names it in "No such ..." errors
    "checkout.session": "checkout.session",
    "invoiceitem": "invoiceitem",
    "subscription_item": "subscription item",
}


@dataclass
class Account:
    """One namespace: the platform's own (id None) or a connected account's."""

    id: str | None
    livemode: bool
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # creation order
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    endpoint_private: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: dict[str, Any] = field(default_factory=dict)  # idempotency key -> response
    # kind ("price", "invoice", ...) -> id -> object, creation order
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    private: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    failing: dict[str, list[str]] = field(default_factory=dict)  # customer -> next decline codes
    # What becomes of a subscription once every retry of its invoice failed (the Dashboard's
    # "subscription status" setting): "canceled" (Stripe's default), "unpaid" or "past_due".
    after_retries: str = "canceled"
    # What one expansion worked out once for every object it expands (``doubles.stripe.expand``)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # customer -> its subscriptions' ids, oldest first, and how many subscriptions that covers:
    # subscriptions are never deleted and never change customer, so the index only grows
    subs_of: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    subs_indexed: int = field(default=0, repr=False, compare=False)

    @property
    def url_id(self) -> str:
        return self.id or PLATFORM_ACCOUNT


@dataclass(frozen=True)
class Call:
    account: Account
    params: dict[str, Any]
    request: tuple[str | None, str | None]  # (request id, idempotency key) for events


class ApiBase:
    """The clock, the event log and the object store that every resource layer uses."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._at: int | None = None  # while the double replays time, the moment being replayed

    def _now(self) -> int:
        return self._at if self._at is not None else int(self._clock())

    def _emit(
        self, call: Call, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        event: dict[str, Any] = {"id": random_id("evt_", 24), "object": "event"}
        if call.account.id:
            event["account"] = call.account.id
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        request_id, key = call.request
        event.update(
            {
                "api_version": API_VERSION,
                "created": self._now(),
                "data": data,
                "livemode": call.account.livemode,
                "pending_webhooks": 1,
                "request": {"id": request_id, "idempotency_key": key},
                "type": type_,
            }
        )
        call.account.events.append(event)

    @staticmethod
    def _get(account: Account, kind: str, object_id: str, param: str | None = None) -> Any:
        """The stored object; a missing one is a 404 on the path, a 400 when a param names it."""
        if kind == "customer":
            found = account.customers.get(object_id)
        else:
            found = account.objects[kind].get(object_id)
        if found is None:
            raise missing(kind, object_id, param)
        return found

    def _put(self, call: Call, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        call.account.objects[kind][obj["id"]] = obj
        return obj

    def _list(
        self,
        call: Call,
        kind: str,
        url: str,
        filters: Mapping[str, Callable[[dict[str, Any], Any], bool]],
        keep: Callable[[dict[str, Any]], bool] = lambda obj: True,
    ) -> dict[str, Any]:
        """One page of ``kind``, newest first: those ``keep`` keeps that pass each filter given."""
        check_keys(call.params, (*LIST_PARAMS, *filters))
        given = {k: v for k, v in call.params.items() if k in filters and v not in ("", None)}
        created = call.params.get("created")

        def keeps(obj: dict[str, Any]) -> bool:
            return (
                keep(obj)
                and created_matches(_made(obj), created)
                and all(filters[k](obj, v) for k, v in given.items())
            )

        listed = page_of(
            call.account.objects[kind], keeps, call.params, url, _NAMES.get(kind, kind)
        )
        # Copy only the page asked for: a whole account's objects on every page is quadratic.
        listed["data"] = copied(listed["data"])
        return listed

    def _edit(
        self, call: Call, kind: str, object_id: str, texts: tuple[str, ...], type_: str
    ) -> dict[str, Any]:
        """An update of an object's text fields and metadata, recorded as ``type_``."""
        check_keys(call.params, (*texts, "metadata", "expand"))
        before = self._get(call.account, kind, object_id)
        after = copy.deepcopy(before)
        for key in texts:
            if key in call.params:
                after[key] = text(call.params[key])
        if "metadata" in call.params:
            after["metadata"] = merge_metadata(after["metadata"], call.params["metadata"])
        call.account.objects[kind][object_id] = after
        return copy.deepcopy(self._changed(call, type_, before, after))

    def _changed(
        self, call: Call, type_: str, before: dict[str, Any], after: dict[str, Any]
    ) -> dict[str, Any]:
        """Record ``type_`` with the previous values of what changed (nothing changed: no event)."""
        previous = previous_attributes(before, after)
        if previous:
            self._emit(call, type_, after, previous)
        return after


def _made(obj: dict[str, Any]) -> int:
    """When an object was made: ``created``, or an invoice item's ``date`` (it has no created)."""
    return int(obj["created"] if "created" in obj else obj["date"])


def missing(kind: str, object_id: str, param: str | None = None) -> StripeError:
    error = no_such(_NAMES.get(kind, kind), object_id, param or "id")
    if param:  # a bad reference in the body is a bad request, not a missing URL
        error.status = 400
    return error


def field_is(name: str) -> Callable[[dict[str, Any], Any], bool]:
    """A list filter comparing one field (or the id of the object it holds) to the value."""

    def test(obj: dict[str, Any], value: Any) -> bool:
        held = obj.get(name)
        held = held.get("id") if isinstance(held, dict) else held
        if isinstance(held, bool):
            return held == (str(value).lower() == "true" if isinstance(value, str) else value)
        return bool(held == value)

    return test


def text(value: Any) -> str | None:
    return str(value) if value not in ("", None) else None


def one_of(value: Any, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        listed = ", ".join(allowed[:-1]) + f", or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        raise invalid(f"Invalid {param}: must be one of {listed}", param)
    return str(value)


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """``timestamp`` moved by ``count`` intervals on the calendar, as Stripe bills periods.

    A month from Jan 31 is the last day of February: the day is clamped to the month's length.
    """
    if interval in ("day", "week"):
        return timestamp + count * (86_400 if interval == "day" else 604_800)
    moment = datetime.fromtimestamp(timestamp, UTC)
    months = moment.month - 1 + count * (12 if interval == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def children(account: Account, kind: str, field: str, parent: str, url: str) -> dict[str, Any]:
    """The complete list of the ``kind`` objects whose ``field`` names ``parent``, newest first."""
    found = [
        copy.deepcopy(o) for o in reversed(account.objects[kind].values()) if o[field] == parent
    ]
    return list_object(found, url)


def list_object(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """A complete embedded list (a subscription's items, an invoice's lines)."""
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}
