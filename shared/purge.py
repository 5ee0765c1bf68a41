"""The ``purge`` job: deletes what has expired, for good.

Firestore's TTL policies delete expired documents in production, typically within 24 hours; this
job is the guarantee there and the only mechanism in local mode. Two passes:

1. closed accounts whose ``expire_at`` has passed, with everything that names them or their
   projects: email claim, credentials, sessions, OAuth states, audit entries, projects, routes,
   tokens, outcomes, event marks and dead letters;
2. every document of every collection in ``FIELDS`` whose ``expire_at`` has passed (sessions,
   OAuth states, throttle entries, outcomes, event marks, dead letters, reports, ...).
"""

import math
from typing import Any

from shared import logs
from shared.clock import Clock
from shared.store.base import EXPIRE_AT, FIELDS, Store

BY_ACCOUNT = tuple(name for name, fields in FIELDS.items() if "account_id" in fields)
BY_PROJECT = tuple(name for name, fields in FIELDS.items() if "project_id" in fields)


def run(store: Store, clock: Clock) -> dict[str, int]:
    """Delete what expired by now; how many documents per collection."""
    now = clock.now()
    deleted: dict[str, int] = {}

    def drop(collection: str, doc_id: str) -> None:
        store.delete(collection, doc_id)
        deleted[collection] = deleted.get(collection, 0) + 1

    for account_id, account in list(store.scan("accounts")):
        if account.get("status") == "closed" and _seconds(account.get(EXPIRE_AT)) <= now:
            for project_id, _ in store.find("projects", "account_id", account_id):
                for collection in BY_PROJECT:
                    for doc_id, _ in store.find(collection, "project_id", project_id):
                        drop(collection, doc_id)
                drop("tokens", project_id)
            for collection in BY_ACCOUNT:
                for doc_id, _ in store.find(collection, "account_id", account_id):
                    drop(collection, doc_id)
            drop("credentials", account_id)
            drop("accounts", account_id)
    for collection, fields in FIELDS.items():
        if EXPIRE_AT not in fields:
            continue
        for doc_id, doc in list(store.scan(collection)):
            if _seconds(doc.get(EXPIRE_AT)) <= now:
                drop(collection, doc_id)
    logs.info("purge finished", **{name: str(count) for name, count in sorted(deleted.items())})
    return deleted


def _seconds(value: Any) -> float:
    if value is None:
        return math.inf
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
