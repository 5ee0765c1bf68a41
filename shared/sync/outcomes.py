"""Sync outcomes: what happened to each event, in ids and codes only (no customer data).

The drainer records one outcome per dirty key it settles, named by the latest event that marked
the key (by the key itself when no event did), listing the ids of the events it stands for.
Readers take a project's newest ``latest(store, project_id, limit, status)``, one bounded query:
never all of them (a backfill or a month-start burst leaves 50,000+ for 30 days).
"""

import math
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


def latest(
    store: Store,
    project_id: str,
    limit: int,
    status: str | None = None,
    code: str | None = None,
    upto: float = math.inf,
) -> list[tuple[str, Doc]]:
    """The project's newest ``limit`` outcomes recorded at ``upto`` or before, by id, newest
    first; only those of ``status`` (and of error ``code``) when given. One query of at most
    ``limit`` documents, however many outcomes the project has (a month-start burst leaves
    50,000+, kept ``TTL_SECONDS``); each set of equalities has its index in infra/firestore.tf."""
    if code is not None and status is None:
        raise ValueError("an error code filters outcomes of one status")
    equals = {"project_id": project_id}
    if status is not None:
        equals["status"] = status
    if code is not None:
        equals["error_code"] = code
    return store.query(COLLECTION, equals, "at", upto, limit, descending=True)
