"""Dirty keys: which Stripe objects of a project must be (re)written to HubSpot.

Every source of work (the webhook, and later backfill, reconcile and replay) marks a key —
project, object kind, object id — and a drainer takes due keys, writes them, and clears each one
only once HubSpot has committed it. A key holds ids only, never a field of the object: the drainer
refetches the object from Stripe, so five events of one subscription are one key, one refetch
and one write, and the order or repetition of events stops mattering.

- ``mark`` creates the key, or gives it a fresh generation token when it is already dirty. A
  drainer compares the token it took with the stored one when it clears: a key marked again while
  its write was in flight keeps its mark and is written again.
- ``take`` answers the due keys of some projects, oldest due first. It writes nothing: one drainer
  per portal holds a lease (``shared.drain.lease``), so nobody else takes the same keys meanwhile,
  and a drainer that dies leaves its keys dirty for the next one.
- ``clear`` deletes the keys whose token is unchanged; ``fail`` puts a key back with exponential
  backoff after a transient failure, and gives it up after ``MAX_ATTEMPTS`` (the caller records a
  failed outcome; marking the key again replays it). ``defer`` waits without counting an attempt
  (HubSpot's daily limit). Either marks the key ``partial``: a round may have written part of
  it, so the next one writes it in full.

A key also says which Stripe reads may serve it (``read_after``): a mark made because something
changed needs a read made after it (``CLOCK_SKEW`` later, as machines' clocks may differ); a
backfill's mark asks only for a read made after the backfill began (``Mark.since``), so a
drainer may serve it from pages it read for an earlier round (``shared.drain.drainer``).

Up to ``MAX_EVENTS`` ids of the events that named a key ride along, so outcomes and health can
still speak of events, and so do the names (never the values) of the fields those events said
changed (``changed``: None as soon as one mark could not say), so that the drainer may leave
alone what did not change. Keys expire (``expire_at``) ``TTL_SECONDS`` after their last mark or
attempt, so a key nobody can ever drain does not stay forever.
"""

import random
import secrets
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shared.clock import Clock
from shared.store.base import DELETE, EXPIRE_AT, MAX_MANY, Change, Doc, Store

COLLECTION = "dirty_keys"
MAX_EVENTS = 10
TTL_SECONDS = 14 * 24 * 3600
MAX_ATTEMPTS = 10
BACKOFF_BASE = 10.0
BACKOFF_CAP = 1800.0  # ten attempts span a little over an hour before a key is given up
CLOCK_SKEW = 1.0  # seconds two machines' clocks may differ by (a marker's and a drainer's)


@dataclass(frozen=True)
class Key:
    """A Stripe object of a project: ``kind`` is Stripe's object name (``customer``,
    ``subscription``, ``invoice``, ``checkout.session``...)."""

    project_id: str
    kind: str
    object_id: str

    @property
    def doc_id(self) -> str:
        # Stripe ids are opaque: escape whatever a document id may not hold ("/" in Firestore).
        return f"{self.project_id}:{self.kind}:{quote(self.object_id, safe='')}"


@dataclass(frozen=True)
class Mark:
    """One mark to make: the key, the event that named it (if an event did), the names of
    the fields that event said changed (None: it did not say, or no event), and since when a
    Stripe read serves it (None: a read after the mark, as something just changed)."""

    key: Key
    event_id: str = ""
    event_type: str = ""
    changed: tuple[str, ...] | None = None
    since: float | None = None


@dataclass(frozen=True)
class Taken:
    """A key as a drainer took it: ``gen`` is compared when it clears or fails the key."""

    key: Key
    gen: str
    attempts: int = 0
    marked_at: float = 0.0
    events: tuple[str, ...] = ()
    event_type: str = ""
    event_count: int = 0
    changed: frozenset[str] | None = None  # None: unknown, anything may have changed
    partial: bool = False  # an earlier round failed or waited: it may have written part of it
    read_after: float = float("inf")  # Stripe reads begun after this (drainer's clock) serve it

    @property
    def history(self) -> bool:
        """Marked only by a walk of existing objects (a backfill): no change waits on it."""
        return self.read_after <= self.marked_at


def backoff(attempts: int, jitter: float) -> float:
    """Seconds to wait after the ``attempts``-th failure; ``jitter`` in [0, 1) spreads retries."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempts - 1))
    return ceiling / 2 + ceiling / 2 * jitter


def _chunks[T](items: Sequence[T], size: int = MAX_MANY) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DirtyKeys:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def mark(
        self,
        key: Key,
        event_id: str = "",
        event_type: str = "",
        changed: tuple[str, ...] | None = None,
    ) -> bool:
        """Mark one key durably; True when it was not dirty before (a drainer must be woken)."""
        return self.mark_many([Mark(key, event_id, event_type, changed)])[0]

    def mark_many(self, marks: Sequence[Mark]) -> list[bool]:
        """Mark keys, a transaction per ``MAX_MANY``; for each mark, whether it made its key
        dirty. Returns only once every mark is stored (``StoreUnavailable`` otherwise)."""
        fresh: list[bool] = []
        for chunk in _chunks(marks):
            created = self._mark_chunk(chunk)
            reported: set[str] = set()  # a new key is reported new once, by its first mark
            for mark in chunk:
                doc_id = mark.key.doc_id
                fresh.append(doc_id in created and doc_id not in reported)
                reported.add(doc_id)
        return fresh

    def _mark_chunk(self, chunk: Sequence[Mark]) -> set[str]:
        """Store one transaction's marks; the ids of the keys it created."""
        now, gen = self._clock.now(), secrets.token_hex(8)
        by_id: dict[str, list[Mark]] = {}
        for mark in chunk:
            by_id.setdefault(mark.key.doc_id, []).append(mark)
        created: set[str] = set()

        def apply(doc_id: str, doc: Doc | None) -> Change:
            if doc is None:
                created.add(doc_id)
            else:
                created.discard(doc_id)  # a retried transaction may find it there after all
            for mark in by_id[doc_id]:
                doc = _marked(doc, mark, gen, now)
            return doc

        self._store.update_many(COLLECTION, list(by_id), apply)
        return created

    def take(
        self, project_ids: Sequence[str], limit: int, besides: Collection[str] = ()
    ) -> list[Taken]:
        """Up to ``limit`` keys of these projects that are due now, oldest due first overall;
        none whose document id is in ``besides`` (keys the caller is writing right now)."""
        now = self._clock.now()
        found: list[tuple[float, str, Doc]] = []
        for project_id in dict.fromkeys(project_ids):
            rows = self._store.query(
                COLLECTION, {"project_id": project_id}, "due_at", now, limit + len(besides)
            )
            found += [
                (float(doc["due_at"]), doc_id, doc) for doc_id, doc in rows if doc_id not in besides
            ]
        found.sort(key=lambda row: (row[0], row[1]))
        return [_taken(doc) for _, _, doc in found[:limit]]

    def due_projects(self, limit: int = 500) -> list[str]:
        """Projects with a key due now: for a sweep that wakes drainers nobody woke. One query
        of the ``limit`` keys due longest; when it is full (one project's backlog may fill it),
        every project is asked in turn, so that none is hidden behind another's backlog."""
        now = self._clock.now()
        rows = self._store.query(COLLECTION, {}, "due_at", now, limit)
        found = list(dict.fromkeys(str(doc["project_id"]) for _, doc in rows))
        if len(rows) < limit:
            return found
        for project_id, _ in self._store.scan("projects"):
            if project_id not in found and self._store.query(
                COLLECTION, {"project_id": project_id}, "due_at", now, 1
            ):
                found.append(project_id)
        return found

    def clear(self, taken: Sequence[Taken]) -> list[Taken]:
        """Delete the keys HubSpot has committed; those marked again meanwhile stay dirty.
        Returns the keys cleared."""
        gens = {t.key.doc_id: t.gen for t in taken}
        cleared: set[str] = set()

        def apply(doc_id: str, doc: Doc | None) -> Change:
            if doc is None or doc.get("gen") != gens[doc_id]:
                cleared.discard(doc_id)
                return None
            cleared.add(doc_id)
            return DELETE

        for chunk in _chunks(list(gens)):
            self._store.update_many(COLLECTION, chunk, apply)
        return [t for t in taken if t.key.doc_id in cleared]

    def fail(self, taken: Sequence[Taken], error_code: str) -> list[Taken]:
        """A transient failure: each key waits its backoff. Keys at ``MAX_ATTEMPTS`` (and not
        marked again meanwhile) are given up, deleted and returned: record them as failed."""
        now = self._clock.now()
        jitter = {t.key.doc_id: random.random() for t in taken}  # noqa: S311 (spreading retries)
        gens = {t.key.doc_id: t.gen for t in taken}
        gave_up: set[str] = set()

        def apply(doc_id: str, doc: Doc | None) -> Change:
            gave_up.discard(doc_id)
            if doc is None:
                return None
            attempts = int(doc.get("attempts") or 0) + 1
            if attempts >= MAX_ATTEMPTS and doc.get("gen") == gens[doc_id]:
                gave_up.add(doc_id)
                return DELETE
            wait = backoff(min(attempts, MAX_ATTEMPTS), jitter[doc_id])
            return {
                **doc,
                "attempts": attempts,
                "last_error": error_code,
                "partial": True,
                "due_at": now + wait,
                EXPIRE_AT: now + wait + TTL_SECONDS,
            }

        for chunk in _chunks(list(gens)):
            self._store.update_many(COLLECTION, chunk, apply)
        return [t for t in taken if t.key.doc_id in gave_up]

    def defer(self, taken: Sequence[Taken], seconds: float) -> None:
        """Make keys due only ``seconds`` from now, without counting an attempt."""
        until = self._clock.now() + seconds

        def apply(doc_id: str, doc: Doc | None) -> Change:
            if doc is None:
                return None
            return {
                **doc,
                "partial": True,
                "due_at": max(float(doc["due_at"]), until),
                EXPIRE_AT: until + TTL_SECONDS,
            }

        for chunk in _chunks([t.key.doc_id for t in taken]):
            self._store.update_many(COLLECTION, chunk, apply)


def _marked(doc: Doc | None, mark: Mark, gen: str, now: float) -> Doc:
    if doc is None:
        doc = {
            "project_id": mark.key.project_id,
            "kind": mark.key.kind,
            "object_id": mark.key.object_id,
            "marked_at": now,
            "due_at": now,  # a key waiting out a backoff keeps waiting when marked again
            "attempts": 0,
            "events": [],
            "event_type": "",
            "event_count": 0,
            "changed": [] if mark.changed is not None else None,
            "read_after": 0.0,
        }
    events = list(doc.get("events") or [])
    count = int(doc.get("event_count") or 0)
    if mark.event_id and mark.event_id not in events:
        events, count = [*events, mark.event_id][-MAX_EVENTS:], count + 1
    known = doc.get("changed")
    changed = None if known is None or mark.changed is None else sorted({*known, *mark.changed})
    since = now + CLOCK_SKEW if mark.since is None else mark.since
    # A key stored before keys said so may wait on a change as recent as now.
    before = float(doc["read_after"]) if "read_after" in doc else now + CLOCK_SKEW
    return {
        **doc,
        "gen": gen,
        "read_after": max(before, since),
        "events": events,
        "event_count": count,
        "event_type": mark.event_type or doc.get("event_type") or "",
        "changed": changed,
        EXPIRE_AT: max(float(doc.get(EXPIRE_AT) or 0), now + TTL_SECONDS),
    }


def _taken(doc: dict[str, Any]) -> Taken:
    return Taken(
        Key(str(doc["project_id"]), str(doc["kind"]), str(doc["object_id"])),
        str(doc["gen"]),
        int(doc.get("attempts") or 0),
        float(doc.get("marked_at") or 0),
        tuple(str(e) for e in doc.get("events") or ()),
        str(doc.get("event_type") or ""),
        int(doc.get("event_count") or 0),
        None if doc.get("changed") is None else frozenset(str(c) for c in doc["changed"]),
        bool(doc.get("partial")),
        float("inf") if doc.get("read_after") is None else float(doc["read_after"]),
    )
