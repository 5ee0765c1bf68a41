"""The event-id mark and the dirty key on real Firestore (emulator): rows 13 and 26.

Two instances racing one event mark its key once and wake one drainer, through an atomic create
(not an in-memory set); and with Firestore down the webhook answers 5xx, never a 2xx without a
durable record.
"""

import json
import threading
import time
import uuid
from typing import Any

import pytest

from shared.errors import OmnirooError, StoreUnavailable
from shared.http import error_response
from shared.webhook import ingest
from shared.webhook.signature import sign
from tests.events import make_event
from tests.plugins.emulators import _firestore_store

pytestmark = pytest.mark.emulator
SECRET = "whsec_emulator"


class RecordingWaker:
    def __init__(self) -> None:
        self.woken: list[str] = []
        self._lock = threading.Lock()

    def wake(self, project_id: str) -> None:
        with self._lock:
            self.woken.append(project_id)


class Clock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def connect(store: Any, account: str) -> None:
    store.put("routes", ingest.route_key(account, False), {"project_id": "prj_1"})
    store.put("projects", "prj_1", {"stripe_status": "connected", "hubspot_status": "connected"})


def signed(account: str) -> tuple[bytes, str]:
    event = make_event("customer.updated", {"id": "cus_race", "object": "customer"}, account)
    body = json.dumps(event).encode()
    return body, sign(body, SECRET, int(time.time()))


def test_two_instances_racing_one_event_mark_it_once(firestore_emulator: str) -> None:
    prefix = f"race{uuid.uuid4().hex[:8]}_"
    waker = RecordingWaker()
    with _firestore_store(prefix) as first, _firestore_store(prefix) as second:
        connect(first, "acct_1Race")
        body, header = signed("acct_1Race")
        instances = [ingest.IngestDeps(s, waker, Clock(), (SECRET,)) for s in (first, second)]
        results: list[str] = []
        barrier = threading.Barrier(8)

        def deliver(deps: ingest.IngestDeps) -> None:
            barrier.wait()
            try:
                results.append(ingest.receive(body, header, deps).outcome)
            except ingest.InFlight:
                results.append("in_flight")

        threads = [threading.Thread(target=deliver, args=(instances[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        [key] = list(first.scan("dirty_keys"))
    assert results.count("accepted") == 1
    assert set(results) <= {"accepted", "duplicate", "in_flight"}
    assert waker.woken == ["prj_1"]
    assert key[1]["object_id"] == "cus_race" and key[1]["event_count"] == 1


def test_firestore_down_during_the_mark_is_503(killable_firestore: Any) -> None:
    store = killable_firestore.store
    connect(store, "acct_1Down")
    waker = RecordingWaker()
    deps = ingest.IngestDeps(store, waker, Clock(), (SECRET,))
    body, header = signed("acct_1Down")
    killable_firestore.stop()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        ingest.receive(body, header, deps)
    assert time.monotonic() - started < killable_firestore.deadline + 10
    assert isinstance(caught.value, OmnirooError)
    _, status, _ = error_response(caught.value, "webhook")
    assert status == 503
    assert waker.woken == []


def test_expiry_is_stored_as_a_timestamp_that_ttl_policies_act_on(firestore_store: Any) -> None:
    from datetime import datetime

    firestore_store.put("outcomes", "evt_ttl", {"status": "synced", "expire_at": 1_800_000_000.5})
    raw = firestore_store._collection("outcomes").document("evt_ttl").get().to_dict()
    assert isinstance(raw["expire_at"], datetime)
    assert firestore_store.get("outcomes", "evt_ttl")["expire_at"] == 1_800_000_000.5
    [(_, found)] = firestore_store.find("outcomes", "status", "synced")
    assert found["expire_at"] == 1_800_000_000.5


@pytest.mark.parametrize("event_id", ["evt_a/b", "..", "__evt__", "evt_test_65RM8sQ6Ib9a"])
def test_an_opaque_event_id_firestore_would_refuse_as_a_document_id_is_marked_once(
    firestore_store: Any, event_id: str
) -> None:
    """Row 45 on real Firestore: '/' and reserved names are escaped, not answered 5xx forever."""
    connect(firestore_store, "acct_1Odd")
    waker = RecordingWaker()
    deps = ingest.IngestDeps(firestore_store, waker, Clock(), (SECRET,))
    made = make_event("customer.updated", {"id": "cus_odd", "object": "customer"}, "acct_1Odd")
    body = json.dumps({**made, "id": event_id}).encode()
    header = sign(body, SECRET, int(time.time()))
    assert ingest.receive(body, header, deps).outcome == "accepted"
    assert ingest.receive(body, header, deps).outcome == "duplicate"
    assert waker.woken == ["prj_1"]
    assert [key for key, _ in firestore_store.scan("event_marks")] == [event_id]
    assert [doc["object_id"] for _, doc in firestore_store.scan("dirty_keys")] == ["cus_odd"]
