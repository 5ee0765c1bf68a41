"""One drainer per HubSpot portal at a time: a lease in the store.

Whoever holds a portal's lease is the only one writing to that portal, so its in-process budget
(``shared.drain.budget``) is the portal's budget across every function instance and thread. The
lease lives ``LEASE_SECONDS`` and its holder renews it from a background thread; a holder that
dies simply stops renewing, and its lease runs out before anyone else may drain. A lease hands
the timestamps of its holder's calls in the last window to the next holder, which counts them
before its first call, and tells it whether its holder stopped cleanly: after a holder that died
or failed halfway (``recovering``), records may have been written without their associations,
so the next one writes everything in full.

A lease is one document per portal, created when taken, renewed (every ``LEASE_SECONDS`` / 4)
and deleted when released, next to a handover document (``<portal>~last``): far below
Firestore's sustained rate of one write a second to one document, which is what rules out a
shared token bucket updated on every call (see docs/write-path.md).
"""

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared import logs
from shared.clock import Clock
from shared.errors import StoreContention, StoreUnavailable, TransientError
from shared.store.base import DELETE, EXPIRE_AT, Change, Doc, Store

COLLECTION = "drain_leases"
LEASE_SECONDS = 60.0
TTL_SECONDS = 2 * 24 * 3600


def _handover(portal: str) -> str:
    """The document a released lease leaves for the next holder."""
    return f"{portal}~last"


class LeaseLost(TransientError):
    """The lease ran out before it could be renewed: stop writing, another drainer may start."""


@dataclass
class Lease:
    portal: str
    owner: str
    calls: list[float]  # what the last holder spent in the window it left
    recovering: bool = False  # the last holder did not stop cleanly
    lost: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLost("drain_lease_lost")


def owner_id() -> str:
    """A fresh holder name (one per drain, so a thread never mistakes another's lease)."""
    return secrets.token_hex(8)


class Leases:
    def __init__(self, store: Store, clock: Clock, seconds: float = LEASE_SECONDS) -> None:
        self._store = store
        self._clock = clock
        self.seconds = seconds

    def held(self, portal: str) -> bool:
        """Whether someone holds the portal's lease now: one read, no transaction."""
        doc = self._store.get(COLLECTION, portal)
        return doc is not None and float(doc.get("until") or 0) > self._clock.now()

    def acquire(self, portal: str, owner: str) -> Lease | None:
        """Take the lease unless another holder's is still running.

        A released lease is deleted, so taking a free one is an atomic create that exactly one
        contender wins, with no transaction for a burst of wake-ups to contend on; most wake-ups
        find it held at the first read and leave. Only a lease its holder never released (it
        died) is taken over in a transaction, once it has run out."""
        now = self._clock.now()
        seen = self._store.get(COLLECTION, portal)
        if seen is not None and seen.get("owner") != owner and float(seen["until"]) > now:
            return None
        fresh: Doc = {"owner": owner, "until": now + self.seconds, EXPIRE_AT: now + TTL_SECONDS}
        if seen is None:
            if not self._store.create(COLLECTION, portal, fresh):
                return None  # another contender created it first: it drains
            calls: list[float] = []
        else:

            def take_over(doc: Doc | None) -> Doc | None:
                if doc is not None and doc.get("owner") != owner and float(doc["until"]) > now:
                    return None
                return {**fresh, "calls": list((doc or {}).get("calls") or [])}

            try:
                after = self._store.update(COLLECTION, portal, take_over)
            except StoreContention:
                return None  # others are taking it over right now: one of them drains
            if after is None or after.get("owner") != owner:
                return None
            calls = [float(c) for c in after.get("calls") or []]
        last = self._store.get(COLLECTION, _handover(portal)) or {}
        recovering = seen is not None or last.get("clean") is False
        return Lease(
            portal, owner, calls or [float(c) for c in last.get("calls") or []], recovering
        )

    def renew(self, lease: Lease, calls: list[float]) -> bool:
        """Extend the lease; False (and ``lease.lost`` set) when it is no longer ours."""
        now = self._clock.now()

        def extend(doc: Doc | None) -> Doc | None:
            if doc is None or doc.get("owner") != lease.owner:
                return None
            return {
                **doc,
                "until": now + self.seconds,
                "calls": calls,
                EXPIRE_AT: now + TTL_SECONDS,
            }

        after = self._store.update(COLLECTION, lease.portal, extend)
        if after is None or after.get("owner") != lease.owner:
            lease.lost.set()
            return False
        return True

    def release(self, lease: Lease, calls: list[float], clean: bool = True) -> None:
        """Give the lease up now: this window's calls (and whether the holder stopped cleanly)
        go to a handover document for the next holder, and the lease is deleted, if still ours.
        ``clean`` False when the holder stopped halfway through a round."""
        now = self._clock.now()

        def give_up(doc_id: str, doc: Doc | None) -> Change:
            return DELETE if doc is not None and doc.get("owner") == lease.owner else None

        try:
            handover = {"calls": calls, "clean": clean, EXPIRE_AT: now + TTL_SECONDS}
            self._store.put(COLLECTION, _handover(lease.portal), handover)
            self._store.update_many(COLLECTION, [lease.portal], give_up)
        except StoreUnavailable:
            # It runs out by itself; the next holder waits for it and writes in full.
            logs.warning("could not release a drain lease", portal=lease.portal)

    @contextmanager
    def renewing(self, lease: Lease, calls: Callable[[], list[float]]) -> Iterator[Lease]:
        """Keep renewing ``lease`` in the background while the body runs; mark it lost when a
        renewal fails past its expiry."""
        stop = threading.Event()
        deadline = [self._clock.now() + self.seconds]

        def renew() -> None:
            while not stop.wait(self.seconds / 4):
                try:
                    if not self.renew(lease, calls()):
                        return
                    deadline[0] = self._clock.now() + self.seconds
                except StoreUnavailable:
                    if self._clock.now() >= deadline[0]:
                        lease.lost.set()
                        return

        thread = threading.Thread(target=renew, name=f"lease-{lease.portal}", daemon=True)
        thread.start()
        try:
            yield lease
        finally:
            stop.set()
            thread.join(timeout=self.seconds)
