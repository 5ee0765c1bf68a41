"""The purge job: expired documents of every collection go, live ones stay, open accounts are
untouched; and the ``purge`` function runs it from its Pub/Sub CloudEvent."""

from pathlib import Path
from typing import Any

import pytest

from shared import purge
from shared.clock import FakeClock
from shared.store.base import EXPIRE_AT, FIELDS
from shared.store.sqlite import SqliteStore
from tests.plugins.stack import PLATFORM_KEY, SECRETS, function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event

EXPIRING = [name for name, fields in FIELDS.items() if EXPIRE_AT in fields]


def test_expired_documents_of_every_collection_go_and_live_ones_stay(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "omniroo.db")
    clock = FakeClock()
    now = clock.now()
    for collection in EXPIRING:
        store.put(collection, "old", {EXPIRE_AT: now - 1})
        store.put(collection, "live", {EXPIRE_AT: now + 60})
    store.put(
        "accounts", "acc_open", {"email": "a@example.com", "created_at": now, "status": "open"}
    )
    store.put("projects", "prj_open", {"account_id": "acc_open"})

    deleted = purge.run(store, clock)

    assert deleted == dict.fromkeys(EXPIRING, 1)
    for collection in EXPIRING:
        assert store.get(collection, "old") is None and store.get(collection, "live")
    assert store.get("accounts", "acc_open") and store.get("projects", "prj_open")


def test_a_closed_account_goes_with_every_record_that_names_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "omniroo.db")
    clock = FakeClock()
    now = clock.now()
    store.put("accounts", "acc_1", {"status": "closed", "closed_at": now, EXPIRE_AT: now})
    store.put("projects", "prj_1", {"account_id": "acc_1"})  # an expiry missed by a crash
    store.put("tokens", "prj_1", {"project_id": "prj_1"})
    store.put("routes", "acct_1:test", {"project_id": "prj_1"})
    store.put("audit", "aud_1", {"account_id": "acc_1", "action": "sign_in", "at": now})
    store.put("credentials", "acc_1", {"password_hash": "x"})
    purge.run(store, clock)
    for collection in FIELDS:
        assert list(store.scan(collection)) == [], collection


def _purge_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": SECRETS[0],
    }.items():
        monkeypatch.setenv(name, value)
    return function_client("purge", "cloudevent")


def test_the_purge_function_runs_from_its_cloud_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _purge_client(tmp_path, monkeypatch)
    store = SqliteStore(tmp_path / "omniroo.db")
    store.put("sessions", "expired", {"account_id": "acc_1", EXPIRE_AT: 1.0})
    event = {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/omniroo-test/topics/jobs",
        "id": "1",
        "datacontenttype": "application/json",
        "data": {"message": {"data": "cHVyZ2U=", "messageId": "1"}},
    }
    assert post_cloud_event(client, event).status_code == 200
    assert store.get("sessions", "expired") is None


def test_the_purge_function_leaves_the_repair_jobs_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _purge_client(tmp_path, monkeypatch)
    store = SqliteStore(tmp_path / "omniroo.db")
    store.put("sessions", "expired", {"account_id": "acc_1", EXPIRE_AT: 1.0})
    backfill = pubsub_cloud_event(b'{"job":"backfill","project_id":"prj_1"}', {"job": "backfill"})
    assert post_cloud_event(client, backfill).status_code == 200
    assert store.get("sessions", "expired") is not None
    purge = pubsub_cloud_event(b'{"job":"purge"}', {"job": "purge"})
    assert post_cloud_event(client, purge).status_code == 200
    assert store.get("sessions", "expired") is None
