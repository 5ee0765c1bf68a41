"""The Queue contract: the messages (wake-ups, the sweep, legacy thin event messages), their
Pub/Sub push envelope, and Pub/Sub itself through the emulator (delivery, an unreachable
service). The embedded mode's drainer threads are tested in tests/test_local_drainers.py.
"""

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shared.errors import BadRequest, QueueUnavailable
from shared.queue.base import ThinMessage, WakeUp, decode
from shared.queue.pubsub import PubSubWaker
from shared.queue.push import decode_push
from tests.emulators import PROJECT, free_port
from tests.pubsub_events import topic_with_subscription


def message(n: int = 1, **overrides: Any) -> ThinMessage:
    fields: dict[str, Any] = {
        "project_id": "prj_test",
        "account": "acct_1Test",
        "event_id": f"evt_{n}",
        "type": "customer.updated",
        "object_id": f"cus_{n}",
        "object_type": "customer",
        "created": 1_800_000_000 + n,
        "livemode": False,
    }
    return ThinMessage(**{**fields, **overrides})


def test_messages_round_trip() -> None:
    assert decode(WakeUp("prj_1").encode()) == WakeUp("prj_1")
    assert decode(WakeUp(sweep=True).encode()) == WakeUp(sweep=True)
    assert decode(message(3).encode()) == message(3)


@pytest.mark.parametrize(
    "raw",
    [b"{}", b'{"project_id": ""}', b'{"project_id": 7}', b'{"sweep": "yes"}', b"[]", b"\xff"],
)
def test_a_message_naming_nothing_is_refused(raw: bytes) -> None:
    with pytest.raises(BadRequest, match="malformed"):
        decode(raw)


# --- Pub/Sub --------------------------------------------------------------------------------


@pytest.fixture
def pubsub_topic(pubsub_emulator: str) -> Iterator[tuple[Any, str, Any, str]]:
    with topic_with_subscription(PROJECT, "drain") as made:
        yield made


@pytest.mark.emulator
def test_pubsub_delivers_the_wake_up_intact(pubsub_topic: Any) -> None:
    publisher, topic, subscriber, subscription = pubsub_topic
    PubSubWaker(publisher, topic).wake("prj_9")
    response = subscriber.pull(subscription=subscription, max_messages=10, timeout=10)
    [received] = response.received_messages
    subscriber.acknowledge(subscription=subscription, ack_ids=[received.ack_id])
    assert decode(received.message.data) == WakeUp("prj_9")
    assert dict(received.message.attributes) == {"project_id": "prj_9"}
    assert received.message.ordering_key == ""


@pytest.mark.emulator
def test_pubsub_push_payload_decodes(pubsub_topic: Any) -> None:
    """What the emulator delivers, wrapped as the Pub/Sub CloudEvent a function receives."""
    publisher, topic, subscriber, subscription = pubsub_topic
    PubSubWaker(publisher, topic).wake("prj_10")
    [received] = subscriber.pull(
        subscription=subscription, max_messages=1, timeout=10
    ).received_messages
    data = {
        "message": {
            "data": base64.b64encode(received.message.data).decode(),
            "attributes": dict(received.message.attributes),
            "messageId": received.message.message_id,
            "publishTime": received.message.publish_time.isoformat(),
        },
        "subscription": subscription,
    }
    assert decode_push(data) == WakeUp("prj_10")


def test_pubsub_unreachable_is_queue_unavailable_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.cloud import pubsub_v1

    # The client reads the emulator address when it is built: point it at a port nobody serves.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    publisher = pubsub_v1.PublisherClient()
    waker = PubSubWaker(publisher, publisher.topic_path(PROJECT, "drain"), timeout=1.0)
    started = time.monotonic()
    with pytest.raises(QueueUnavailable):
        waker.wake("prj_test")
    assert time.monotonic() - started < 3.0
    publisher.stop()


def _push(data: bytes, **attributes: str) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": "11937923475392",
            "message_id": "11937923475392",
            "publishTime": "2026-11-29T05:13:39.123Z",
            "publish_time": "2026-11-29T05:13:39.123Z",
        },
        "subscription": f"projects/{PROJECT}/subscriptions/hubspot-push",
    }


def test_decode_push_round_trip() -> None:
    sent = message(11, livemode=True)
    data = _push(sent.encode(), event_id=sent.event_id, project_id="prj_test", type=sent.type)
    assert decode_push(data) == sent


def test_decode_push_without_attributes() -> None:
    data = _push(message().encode())
    del data["message"]["attributes"]
    assert decode_push(data) == message()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="not-an-object"),
        pytest.param([], id="a-list"),
        pytest.param({}, id="no-message"),
        pytest.param({"message": "text"}, id="message-not-an-object"),
        pytest.param({"message": {}}, id="no-data"),
        pytest.param({"message": {"data": 42}}, id="data-not-a-string"),
        pytest.param({"message": {"data": ""}}, id="empty-data"),
        pytest.param({"message": {"data": "%%% not base64 %%%"}}, id="not-base64"),
        pytest.param(_push(b"not json"), id="not-json"),
        pytest.param(_push(b"[1, 2]"), id="json-not-an-object"),
        pytest.param(_push(json.dumps({"event_id": "evt_1"}).encode()), id="missing-fields"),
        pytest.param(_push(b"{}"), id="names-no-project"),
        pytest.param(_push(message().encode(), event_id="evt_other"), id="attributes-disagree"),
        pytest.param(
            {"message": {"data": base64.b64encode(message().encode()).decode(), "attributes": []}},
            id="attributes-not-an-object",
        ),
    ],
)
def test_decode_push_refuses_malformed(data: Any) -> None:
    with pytest.raises(BadRequest, match="malformed"):
        decode_push(data)
