"""Firestore's TTL policies (infra/firestore.tf) delete a document only when its TTL field holds a
Timestamp: a number there is ignored and the document is kept for ever. This checks what the
production store hands to Firestore for ``expire_at``."""

from datetime import datetime
from typing import Any

from shared.drain.dirty import Key, Taken
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
    taken = Taken(Key("prj_1", "customer", "cus_1"), "gen", events=("evt_1",))
    doc = outcomes.record_keys_docs([(taken, Outcome("synced"))], 1_700_000_000.0)["evt_1"]
    FirestoreStore(client).put(outcomes.COLLECTION, "evt_1", doc)  # type: ignore[arg-type]
    [doc] = client.written
    assert isinstance(doc[EXPIRE_AT], datetime)
