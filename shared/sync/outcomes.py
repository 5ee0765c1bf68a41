"""Sync outcomes: what happened to each event, in ids and codes only (no customer data)."""

from dataclasses import asdict, dataclass

from shared.queue.base import ThinMessage
from shared.store.base import EXPIRE_AT, Store

COLLECTION = "outcomes"
TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Outcome:
    status: str  # synced | skipped | failed
    hubspot_id: str = ""
    error_code: str = ""


def record(store: Store, message: ThinMessage, outcome: Outcome, now: float) -> None:
    store.put(
        COLLECTION,
        message.event_id,
        {
            "project_id": message.project_id,
            "event_id": message.event_id,
            "type": message.type,
            "stripe_id": message.object_id,
            **asdict(outcome),
            "at": now,
            EXPIRE_AT: now + TTL_SECONDS,
        },
    )


def for_project(store: Store, project_id: str) -> list[dict[str, object]]:
    found = [doc for _, doc in store.find(COLLECTION, "project_id", project_id)]
    return sorted(found, key=lambda doc: float(doc["at"]), reverse=True)
