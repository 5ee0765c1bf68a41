"""Firestore's TTL policies (infra/firestore.tf) delete a document only when its TTL field holds a
Timestamp: a number there is ignored and the document is kept for ever. This checks what the
production store hands to Firestore for ``expire_at``."""

from datetime import datetime
from typing import Any

from shared.queue.base import ThinMessage
from shared.store.base import EXPIRE_AT
from shared.store.firestore import FirestoreStore
from shared.sync import outcomes
from shared.sync.outcomes import Outcome


class _Recorder:
    """Stands in for google.cloud.firestore.Client: records what ``set`` would write."""

    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def collection(self, name: str) -> "_Recorder":
        return self

    def document(self, doc_id: str) -> "_Recorder":
        return self

    def set(self, doc: dict[str, Any], **bounds: Any) -> None:
        self.written.append(doc)


def test_the_firestore_store_writes_expire_at_as_a_timestamp() -> None:
    client = _Recorder()
    message = ThinMessage(
        "prj_1", "acct_1", "evt_1", "customer.created", "cus_1", "customer", 1, False
    )
    outcomes.record(FirestoreStore(client), message, Outcome("synced"), 1_700_000_000.0)  # type: ignore[arg-type]
    [doc] = client.written
    assert isinstance(doc[EXPIRE_AT], datetime)
