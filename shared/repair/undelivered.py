"""Events Stripe could not deliver to Omniroo: found with List Events and fed to the dirty keys.

Stripe retries a failed delivery for up to 3 days and then gives up; the events stay listable for
30 days. Reconcile lists the project's events with ``delivery_success=false`` (pending, or failed
at some endpoint) and ``types[]`` (the handled types, 20 at most per call, the API's limit), as
Stripe's guide "Process undelivered webhook events" describes
(docs.stripe.com/webhooks/process-undelivered-events; stripe-python 16.1.0 ``EventListParams``),
created since ``since``: the last 3 days, or further back to a day before the project's last
completed reconcile when that is older (up to the 30 days Stripe keeps), so an outage longer than
Stripe's retries, during which reconcile could not run either, still loses nothing
(RELIABILITY row 30).

For each such event the webhook never accepted, reconcile does what the webhook would have: it
claims the event id (``event_marks``, so that Stripe's own later retries of it are answered as
duplicates), marks the key of the event's object with the event's id and type, and then settles
the claim. An event the webhook already accepted (a ``published`` mark), or is accepting right
now (a fresh ``pending`` one), is left alone. Only ids and types are read from the events.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from shared.clock import Clock
from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.events import EVENT_OBJECTS
from shared.repair.listing import Pages
from shared.store.base import Doc, Store
from shared.webhook import ingest

DAY = 24 * 3600
WINDOW = 3 * DAY  # Stripe's retries
REACH = 30 * DAY  # how far back List Events goes
MAX_TYPES = 20


@dataclass(frozen=True)
class Found:
    listed: int  # undelivered events of handled types Stripe listed
    marked: int  # of those, events the webhook had not accepted: now marked
    keys: tuple[Key, ...]


def _type_chunks(types: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(types), MAX_TYPES):
        yield list(types[start : start + MAX_TYPES])


def find(
    stripe: Pages,
    store: Store,
    clock: Clock,
    project_id: str,
    project: Doc,
    since: float,
) -> Found:
    """List the project's undelivered events created since ``since`` and mark the objects of
    those never accepted."""
    account = str(project.get("stripe_account") or "")
    livemode = bool(project.get("livemode"))
    listed, marks = 0, []
    for types in _type_chunks(sorted(EVENT_OBJECTS)):
        params = {"delivery_success": "false", "created": {"gte": int(since)}, "types": types}
        for page, _ in stripe.pages("event", account, params):
            for event in page:
                if bool(event.get("livemode")) != livemode:
                    continue  # a test event never syncs into a live project, nor the reverse
                listed += 1
                found = _mark_of(project_id, event)
                if found is not None:
                    marks.append(found)
    claimed = [m for m in marks if _claimed(store, clock, m.event_id, project_id)]
    DirtyKeys(store, clock).mark_many(claimed)  # durable before the claims settle
    for mark in claimed:
        ingest._settle(store, mark.event_id)
    return Found(listed, len(claimed), tuple(dict.fromkeys(m.key for m in claimed)))


def since(now: float, last_done: float | None) -> float:
    """Where a run's listing starts: 3 days back, or a day before the last completed run when
    that is older, never past the 30 days Stripe keeps."""
    start = now - WINDOW if last_done is None else min(now - WINDOW, last_done - DAY)
    return max(start, now - REACH)


def _claimed(store: Store, clock: Clock, event_id: str, project_id: str) -> bool:
    """The webhook's own claim of an event id (``shared.webhook.ingest``), so that the two can
    never both accept one event: False when it is accepted, or being accepted, already."""
    try:
        return ingest._claim(store, event_id, project_id, clock.now())
    except ingest.InFlight:
        return False


def _mark_of(project_id: str, event: dict[str, Any]) -> Mark | None:
    obj = (event.get("data") or {}).get("object") or {}
    event_type, object_id = str(event.get("type") or ""), str(obj.get("id") or "")
    kind = str(obj.get("object") or EVENT_OBJECTS.get(event_type, ""))
    if event_type not in EVENT_OBJECTS or not object_id or not kind or not event.get("id"):
        return None
    return Mark(Key(project_id, kind, object_id), str(event["id"]), event_type)
