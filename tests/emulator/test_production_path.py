"""The production path on real parts: ``OMNIROO_ENV=gcp`` with the Firestore and Pub/Sub
emulators, Cloud KMS through its real REST client against the KMS double, and both API doubles.

The demo scenario runs through ``stripe_webhook`` (dirty key in Firestore, wake-up on Pub/Sub)
-> ``hubspot_push`` (the drainer); afterwards no
Stripe customer value and no secret is found in Firestore, in any Pub/Sub message or in the logs
(rows 40 and 41), and Firestore holds only the allowlisted collections and fields.
"""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from shared import wiring
from shared.clock import SystemClock
from shared.config import Settings
from shared.crypto.envelope import Envelope
from shared.webhook.signature import sign
from tests.gcp_mode import gcp_mode
from tests.leaks import dump, hits, store_violations
from tests.plugins.stack import PLATFORM_KEY, SECRETS, function_client
from tests.pubsub_events import post_cloud_event
from tooling import ready
from tooling.demo import lifecycle, scenario

pytestmark = pytest.mark.emulator


@pytest.fixture
def gcp(
    monkeypatch: pytest.MonkeyPatch,
    firestore_emulator: str,
    pubsub_emulator: str,
    kms_double: Any,
    stripe_double: Any,
    hubspot_double: Any,
) -> Iterator[dict[str, Any]]:
    gcp_project, _, subscriber, paths = gcp_mode(
        monkeypatch,
        (kms_double, stripe_double, hubspot_double),
        "omniroo-e2e",
        {"drain": "hubspot-push"},
        OMNIROO_DRAIN_TOPIC="drain",
    )
    subscription = paths["hubspot-push"]
    yield {"project": gcp_project, "subscriber": subscriber, "subscription": subscription}
    subscriber.close()


def pull(subscriber: Any, subscription: str) -> list[Any]:
    response = subscriber.pull(subscription=subscription, max_messages=100, timeout=10)
    received = list(response.received_messages)
    if received:
        subscriber.acknowledge(subscription=subscription, ack_ids=[r.ack_id for r in received])
    return received


def as_cloud_event(received: Any, subscription: str) -> dict[str, Any]:
    import base64

    message = received.message
    return {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/" + subscription,
        "id": message.message_id,
        "data": {
            "message": {
                "data": base64.b64encode(message.data).decode(),
                "attributes": dict(message.attributes),
                "messageId": message.message_id,
            },
            "subscription": subscription,
        },
    }


def connect_project(stripe_double: Any, hubspot_double: Any) -> tuple[str, int, str]:
    settings = Settings.from_env()
    store = wiring.build_store(settings)
    envelope = Envelope(wiring.build_key_service(settings))
    project = ready.ready_project(stripe_double, hubspot_double, store, envelope, SystemClock())
    return project.account, project.portal_id, project.token


def deliverer(gcp: dict[str, Any], messages: list[Any]) -> Any:
    webhook = function_client("stripe_webhook")
    push = function_client("hubspot_push", "cloudevent")

    def deliver(event: dict[str, Any]) -> str:
        body = json.dumps(event).encode()
        response = webhook.post(
            "/", data=body, headers={"Stripe-Signature": sign(body, SECRETS[0], int(time.time()))}
        )
        assert response.status_code == 200, response.get_data()
        outcome = str(response.get_json()["outcome"])
        if outcome != "accepted":  # nothing was published: do not wait on an empty pull
            return outcome
        for received in pull(gcp["subscriber"], gcp["subscription"]):
            messages.append(received.message)
            pushed = post_cloud_event(push, as_cloud_event(received, gcp["subscription"]))
            assert pushed.status_code == 200
        return outcome

    return deliver


def test_billing_lifecycle_on_real_parts_leaves_no_billing_data(
    gcp: dict[str, Any],
    stripe_double: Any,
    hubspot_double: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    account, portal_id, token = connect_project(stripe_double, hubspot_double)
    messages: list[Any] = []
    shots = lifecycle.run(
        stripe_double,
        account,
        deliverer(gcp, messages),
        lambda step: lifecycle.snapshot(hubspot_double, portal_id, step),
    )
    assert [(s.deal_stage, s.mrr) for s in shots][-1] == ("closedlost", "0.00")
    assert shots[1].mrr == "777.13" and shots[5].lifetime_value == "2875.38"
    assert shots[-2].lifetime_value == "1998.25"  # the credit note and the lost dispute
    client = firestore.Client(project=gcp["project"], credentials=AnonymousCredentials())
    collections = {c.id: [(d.id, d.to_dict()) for d in c.stream()] for c in client.collections()}
    assert store_violations(collections) == []
    forbidden = [*lifecycle.sentinels(), token, PLATFORM_KEY, *SECRETS]
    strings = json.dumps({k: [(i, _strings(d)) for i, d in v] for k, v in collections.items()})
    assert hits(strings, forbidden) == []
    for message in messages:
        assert hits(message.data.decode() + json.dumps(dict(message.attributes)), forbidden) == []
    out, err = capfd.readouterr()
    assert hits(out + err, forbidden) == []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_demo_scenario_on_real_parts_leaves_no_customer_data(
    gcp: dict[str, Any],
    stripe_double: Any,
    hubspot_double: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    account, portal_id, token = connect_project(stripe_double, hubspot_double)
    messages: list[Any] = []
    deliver = deliverer(gcp, messages)

    steps = scenario.run(stripe_double, account, deliver)

    assert [s.outcome for s in steps].count("duplicate") == 1
    assert len(messages) == len(steps) - 1
    contacts = [r for r in hubspot_double.records(portal_id, "contacts") if not r["archived"]]
    assert scenario.summary(contacts) == scenario.EXPECTED

    client = firestore.Client(project=gcp["project"], credentials=AnonymousCredentials())
    collections = {c.id: [(d.id, d.to_dict()) for d in c.stream()] for c in client.collections()}
    assert set(collections) <= {
        "accounts",
        "projects",
        "routes",
        "tokens",
        "event_marks",
        "outcomes",
        "drain_leases",
        "health",  # sync health counters: project, day, counts (shared.repair.health)
    }
    assert [doc for _, doc in collections.get("dirty_keys", [])] == []  # every key drained
    assert len(collections["outcomes"]) == len(messages)
    assert store_violations(collections) == []
    forbidden = [*scenario.sentinels(), token, PLATFORM_KEY, *SECRETS]
    assert hits(dump(collections), forbidden) == []
    for message in messages:
        assert hits(message.data.decode() + json.dumps(dict(message.attributes)), forbidden) == []
    out, err = capfd.readouterr()
    assert "webhook accepted" in out
    assert hits(out + err, forbidden) == []
