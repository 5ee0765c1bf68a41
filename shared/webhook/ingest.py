"""What happens to a Stripe webhook delivery after its bytes arrive, until its object is marked.

verify (raw bytes) -> parse the minimum -> route by (account, livemode) -> mark the event id ->
mark the object's dirty key, durably -> only then report success -> wake a drainer. The body
itself is dropped here: the drainer refetches the object from Stripe.

The event-id mark must never lose an event: it is created ``pending`` before the dirty key is
marked and made ``published`` once the key is stored. A delivery that finds a ``published`` mark
is a duplicate. One that finds a fresh ``pending`` mark is racing another instance and is told to
come back later (5xx); a ``pending`` mark older than the lease belongs to a delivery that died,
and the retry takes it over, so Stripe's retries always get another chance.

Waking the drainer is best effort: the key is already durable, and a wake-up that cannot be sent
is made up for by the scheduled sweep (``shared.drain.entry``), so it never costs a 5xx.
"""

import secrets
from dataclasses import dataclass

from shared import connections, logs
from shared.clock import Clock
from shared.connections import route_key
from shared.drain.dirty import DirtyKeys, Key
from shared.errors import BadRequest, QueueUnavailable, StoreUnavailable, TransientError
from shared.events import CONNECTION_EVENTS, EVENT_OBJECTS
from shared.queue.base import Waker
from shared.repair import health
from shared.store.base import EXPIRE_AT, Doc, Store
from shared.webhook import event, signature

MARK_LEASE_SECONDS = 60
# Stripe retries for 3 days; marks outlive that, and stay within the 30-day data promise.
MARK_TTL_SECONDS = 7 * 24 * 3600


class InFlight(TransientError):
    """Another instance is publishing this event right now; Stripe should retry later."""

    status = 409


@dataclass(frozen=True)
class IngestDeps:
    store: Store
    waker: Waker
    clock: Clock
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    outcome: str  # accepted | duplicate | ignored_type | ignored_unknown_account | ...
    event_id: str

    @property
    def status(self) -> int:
        return 200


def receive(body: bytes, header: str | None, deps: IngestDeps) -> Result:
    signature.verify(body, header, deps.secrets, deps.clock.now())
    try:
        head = event.parse(body)
    except BadRequest as exc:
        # Authentic but unreadable: Stripe (or our own config) is broken, not an attacker.
        logs.alert("signed webhook could not be parsed", reason=str(exc))
        raise
    if head.type in CONNECTION_EVENTS:
        return _deauthorized(head, deps)
    project_id, ignored = _route(head, deps.store)
    if ignored:
        logs.info("webhook ignored", outcome=ignored, event_id=head.id, type=head.type)
        if ignored == "ignored_unknown_account":
            logs.alert("event for an unknown Stripe account", event_id=head.id)
        return Result(ignored, head.id)
    if not _claim(deps.store, head.id, project_id, deps.clock.now()):
        logs.info("webhook duplicate", event_id=head.id, type=head.type)
        return Result("duplicate", head.id)
    key = Key(project_id, head.object_type, head.object_id)
    try:
        fresh = DirtyKeys(deps.store, deps.clock).mark(key, head.id, head.type, head.changed)
    except StoreUnavailable:
        _release(deps.store, head.id)
        raise
    _settle(deps.store, head.id)
    _count_received(deps, project_id)
    logs.info("webhook accepted", event_id=head.id, type=head.type, project_id=project_id)
    if fresh:  # a key already dirty is on its way: whoever drains now takes it too
        _wake(deps.waker, project_id)
    return Result("accepted", head.id)


def _count_received(deps: IngestDeps, project_id: str) -> None:
    # Sync health: one blind increment of a random shard (shared.repair.health). The event is
    # already durable, so a count that cannot be stored is logged, never answered with a 5xx.
    try:
        health.count(deps.store, project_id, {"received": 1}, deps.clock.now())
    except StoreUnavailable:
        logs.warning("received count not stored", project_id=project_id)


def _wake(waker: Waker, project_id: str) -> None:
    try:
        waker.wake(project_id)
    except QueueUnavailable:
        logs.warning("drainer wake-up not sent; the sweep will find the key", project_id=project_id)


def _route(head: event.EventHead, store: Store) -> tuple[str, str]:
    """(project id, "") for an event to sync, or ("", why it is dropped)."""
    if head.type not in EVENT_OBJECTS:
        return "", "ignored_type"
    if head.account is None:
        return "", "ignored_platform_event"
    route = store.get("routes", route_key(head.account, head.livemode))
    if route is None:
        other = store.get("routes", route_key(head.account, not head.livemode))
        return "", "ignored_wrong_mode" if other is not None else "ignored_unknown_account"
    project = store.get("projects", route["project_id"])
    if project is None or project.get("stripe_status") != "connected":
        return "", "ignored_disconnected"
    return str(route["project_id"]), ""


def _claim(store: Store, event_id: str, project_id: str, now: float) -> bool:
    """True when this delivery owns the publish of ``event_id``; False for a duplicate."""
    fresh: Doc = {
        "state": "pending",
        "claim": secrets.token_hex(8),
        "project_id": project_id,
        "claimed_at": now,
        EXPIRE_AT: now + MARK_TTL_SECONDS,
    }
    if store.create("event_marks", event_id, fresh):
        return True

    def take_over(mark: Doc | None) -> Doc | None:
        if mark is None or (
            mark.get("state") == "pending" and now - mark["claimed_at"] > MARK_LEASE_SECONDS
        ):
            return fresh
        return None

    mark = store.update("event_marks", event_id, take_over)
    if mark is not None and mark.get("state") == "published":
        return False
    if mark is not None and mark.get("claim") == fresh["claim"]:
        return True
    raise InFlight("event is being published by another delivery")


def _release(store: Store, event_id: str) -> None:
    # If this fails too, the pending mark's lease runs out and Stripe's retry takes over.
    try:
        store.delete("event_marks", event_id)
    except StoreUnavailable:
        logs.warning("could not release event mark", event_id=event_id)


def _settle(store: Store, event_id: str) -> None:
    # The key is already durably marked: a failure here risks a duplicate, never a loss.
    def publish(mark: Doc | None) -> Doc | None:
        return None if mark is None else {**mark, "state": "published"}

    try:
        store.update("event_marks", event_id, publish)
    except StoreUnavailable:
        logs.warning("could not settle event mark", event_id=event_id)


def _deauthorized(head: event.EventHead, deps: IngestDeps) -> Result:
    """The account disconnected Omniroo from its side: stop its sync now
    (``shared.connections.cut``): the route goes, so its later events are dropped as unknown;
    the project's HubSpot tokens are deleted; the project says ``revoked``. Safe to repeat: a
    second delivery finds no route."""
    if head.account is None:
        return Result("ignored_platform_event", head.id)
    route = deps.store.get("routes", route_key(head.account, head.livemode))
    if route is None:
        # Omniroo's own disconnect removed the route first, or a repeat delivery.
        logs.info("deauthorization for an unrouted account", event_id=head.id)
        return Result("ignored_unknown_account", head.id)
    project_id = str(route["project_id"])
    connections.cut(deps.store, deps.clock, project_id, "stripe", reason="deauthorized")
    return Result("revoked", head.id)
