"""The dead-letter topic, read by the project itself rather than by an operator with ``gcloud``.

In gcp mode Pub/Sub moves a message ``hubspot_push`` failed to take after its delivery attempts
to the dead-letter topic, where a subscription holds it for 7 days. ``collect`` pulls those
messages and keeps what can be replayed as ``dead_letters`` documents (ids and types only, with
the object the message named), counted ``dead_lettered`` in sync health; ``shared.repair.replay``
replays them like failed outcomes. A message is acknowledged only once it is stored, so a crash
in between leaves it on the subscription for the next pull. A message that names no event
carries nothing to replay and is acknowledged as ``dropped``: a drainer wake-up (the dirty keys
it was about stay in the store for the sweep), a job message (a backfill keeps its cursor and is
resumed with ``backfill --resume``; reconcile runs again on schedule), or something unreadable,
logged by the tail of its ack id only.

Reconcile, the scheduled job, collects every run; ``tooling.cli replay`` collects first too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared import logs
from shared.clock import Clock
from shared.errors import BadRequest
from shared.queue.base import ThinMessage
from shared.repair import health
from shared.store.base import EXPIRE_AT, Store
from shared.sync.outcomes import TTL_SECONDS

COLLECTION = "dead_letters"
BATCH = 100
ROUNDS = 50  # at most 5,000 messages a call: the rest waits for the next one


class DeadLetterSource(Protocol):
    def pull(self, limit: int) -> list[tuple[str, bytes]]:
        """Up to ``limit`` messages waiting: (ack id, data); empty when none are."""
        ...

    def ack(self, ack_ids: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class Collected:
    kept: int = 0
    dropped: int = 0


def park(store: Store, message: ThinMessage, error_type: str, now: float) -> None:
    """Keep a dead-lettered event for replay, and count it."""
    store.put(
        COLLECTION,
        message.event_id,
        {
            "project_id": message.project_id,
            "event_id": message.event_id,
            "type": message.type,
            "object_type": message.object_type,
            "object_id": message.object_id,
            "error_type": error_type,
            "at": now,
            EXPIRE_AT: now + TTL_SECONDS,
        },
    )
    health.count(store, message.project_id, {"dead_lettered": 1}, now)


def collect(store: Store, source: DeadLetterSource, clock: Clock) -> Collected:
    kept = dropped = 0
    for _ in range(ROUNDS):
        pulled = source.pull(BATCH)
        if not pulled:
            break
        for ack_id, data in pulled:
            try:
                message = ThinMessage.decode(data)
            except BadRequest:
                logs.warning("dead letter without an event dropped", ack_id=ack_id[-12:])
                dropped += 1
                continue
            park(store, message, "dead_lettered", clock.now())
            kept += 1
        source.ack([ack_id for ack_id, _ in pulled])
    if kept or dropped:
        logs.info("dead letters collected", kept=kept, dropped=dropped)
    return Collected(kept, dropped)
