"""Sync outcomes: what happened to each event, in ids and codes only (no customer data).

The drainer records one outcome per dirty key it settles, named by the latest event that marked
the key (by the key itself when no event did), listing the ids of the events it stands for.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from shared.drain.dirty import Taken
from shared.store.base import EXPIRE_AT, MAX_MANY, Doc, Store

COLLECTION = "outcomes"
TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Outcome:
    status: str  # synced | skipped | failed
    hubspot_id: str = ""
    error_code: str = ""


def record_keys(store: Store, settled: Sequence[tuple[Taken, Outcome]], now: float) -> None:
    """One outcome per settled key, written ``MAX_MANY`` to a transaction."""
    docs = record_keys_docs(settled, now)
    ids = list(docs)
    for start in range(0, len(ids), MAX_MANY):
        chunk = ids[start : start + MAX_MANY]
        store.update_many(COLLECTION, chunk, lambda doc_id, _: docs[doc_id])


def record_keys_docs(settled: Sequence[tuple[Taken, Outcome]], now: float) -> dict[str, Doc]:
    """The outcome documents of settled keys, by id: the latest event's, or the key's."""
    docs: dict[str, Doc] = {}
    for taken, outcome in settled:
        event_id = taken.events[-1] if taken.events else ""
        docs[event_id or taken.key.doc_id] = {
            "project_id": taken.key.project_id,
            "event_id": event_id,
            "events": list(taken.events),
            "type": taken.event_type or f"{taken.key.kind}.sync",
            "stripe_id": taken.key.object_id,
            **asdict(outcome),
            "at": now,
            EXPIRE_AT: now + TTL_SECONDS,
        }
    return docs


def for_project(store: Store, project_id: str) -> list[dict[str, object]]:
    found = [doc for _, doc in store.find(COLLECTION, "project_id", project_id)]
    return sorted(found, key=lambda doc: float(doc["at"]), reverse=True)
